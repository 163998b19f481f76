"""Vietnamese alphabetical order for names in lists (issue 12: office conventions)."""

from __future__ import annotations

from shared.domain.collation import name_key, vi_key


def test_letters_sort_as_the_vietnamese_alphabet_and_tones_only_break_ties() -> None:
    words = ["Zalo", "Đà Nẵng", "Dương", "Ấn", "An", "Ăn", "Bắc", "Anh"]
    assert sorted(words, key=vi_key) == ["An", "Anh", "Ăn", "Ấn", "Bắc", "Dương", "Đà Nẵng", "Zalo"]
    # Tones: none, huyền, hỏi, ngã, sắc, nặng.
    assert sorted(["Bạ", "Bá", "Bã", "Bả", "Bà", "Ba"], key=vi_key) == ["Ba", "Bà", "Bả", "Bã", "Bá", "Bạ"]
    assert vi_key("Nguyễn") == vi_key("nguyễn"), "case does not matter"
    assert vi_key("Nguye\u0303\u0302n") == vi_key("Nguyễn"), "composed or decomposed input sorts the same"


def test_people_sort_by_given_name_then_family_and_middle_names() -> None:
    names = ["Đỗ Văn Bình", "Trần Văn An", "Nguyễn Thị Ánh", "Lê Văn Đức", "Bùi Văn An", "Phạm Dũng"]
    assert sorted(names, key=name_key) == [
        "Bùi Văn An",
        "Trần Văn An",
        "Nguyễn Thị Ánh",
        "Đỗ Văn Bình",
        "Phạm Dũng",
        "Lê Văn Đức",
    ]
