"""Errors of the pure domain core, each carrying a stable code and a message in Vietnamese with English beside it."""

from __future__ import annotations


class DomainError(ValueError):
    """A value the domain rules refuse; `message_vi` is shown to users, `code` is for programs and translations."""

    def __init__(self, code: str, message_vi: str, message_en: str) -> None:
        super().__init__(f"{message_vi} ({message_en})")
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en


class ScoreError(DomainError):
    """An essay score or a grading scale that breaks D13."""


class DateError(DomainError):
    """A date written by a user that is not a valid dd/mm/yyyy date."""


class NumberFormatError(DomainError):
    """A number that cannot be displayed (not finite, or a negative number of places)."""


class DocumentNumberError(DomainError):
    """A document number that is not a Party document number of the form `15-NQ/TU` (D5a)."""


class ScheduleError(DomainError):
    """A review calendar, override or deadline setting that breaks D16-D21 or D25."""
