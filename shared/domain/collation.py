"""Vietnamese alphabetical order (bảng chữ cái tiếng Việt) for names and titles in lists.

Python's default order puts "Đ" after "Z" and "Ă" after every plain letter. Here letters sort as the Vietnamese
alphabet does (a ă â b c d đ e ê g h i k l m n o ô ơ p q r s t u ư v x y), and tones only break ties between
words with the same letters, as Unicode's Vietnamese tailoring does: none, huyền, hỏi, ngã, sắc, nặng.
People are listed by given name (the last word), then by family and middle names, as office rosters are.
"""

from __future__ import annotations

import unicodedata

_ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_RANK = {letter: i for i, letter in enumerate(_ALPHABET)}
_MODIFIERS = {"\u0306": "ă", "\u0302": "â", "\u031b": "ơ"}
"""Combining breve, circumflex, horn: they make a new letter of the one before them."""
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
"""Combining grave (huyền), hook (hỏi), tilde (ngã), acute (sắc), dot below (nặng)."""
_WITH = {("a", "\u0306"): "ă", ("a", "\u0302"): "â", ("e", "\u0302"): "ê", ("o", "\u0302"): "ô"}
_WITH.update({("o", "\u031b"): "ơ", ("u", "\u031b"): "ư"})

Key = tuple[tuple[int, ...], tuple[int, ...]]


def vi_key(text: str) -> Key:
    """A sort key: letters in Vietnamese order first, then tones (both per letter, left to right)."""
    letters: list[int] = []
    tones: list[int] = []
    for char in unicodedata.normalize("NFD", " ".join(text.split()).casefold()):
        if char in _TONES and tones:
            tones[-1] = _TONES[char]
        elif char in _MODIFIERS and letters:
            prev = _ALPHABET[letters[-1]] if letters[-1] < len(_ALPHABET) else ""
            joined = _WITH.get((prev, char))
            if joined is not None:
                letters[-1] = _RANK[joined]
        elif unicodedata.combining(char):
            continue
        else:
            # Not a Vietnamese letter (digits, space, f j w z): after the alphabet, in code-point order; a space
            # sorts first so "An" comes before "Anh".
            letters.append(-1 if char == " " else _RANK.get(char, len(_ALPHABET) + ord(char)))
            tones.append(0)
    return tuple(letters), tuple(tones)


def name_key(full_name: str) -> tuple[Key, Key]:
    """A person's name in roster order: by given name (tên), then family and middle names (họ, đệm)."""
    words = full_name.split()
    if not words:
        return vi_key(""), vi_key("")
    return vi_key(words[-1]), vi_key(" ".join(words[:-1]))
