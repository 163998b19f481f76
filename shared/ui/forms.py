"""Reading a posted form: each field's text kept to show again, each problem in Vietnamese next to its field."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeAlias, TypeVar

from litestar import Request
from litestar.datastructures import FormMultiDict, State, UploadFile
from litestar.di import NamedDependency
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.core.errors import Refusal, RowProblem
from shared.db.engine import Database
from shared.domain.errors import DateError
from shared.domain.formatting import parse_date
from shared.ui.web import Page, render

T = TypeVar("T")

GENERAL = "_"
"""The key of a problem that belongs to the whole form rather than one field."""


@dataclass(frozen=True, slots=True)
class Saved(Generic[T]):
    """A write that went through, and what it returned (a write may return None)."""

    value: T


class Form:
    """A posted form being read; `errors` maps a field name to what is wrong with it."""

    def __init__(self, data: FormMultiDict, db: Database) -> None:
        self.data = data
        self.db = db
        self.errors: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self.problems: list[RowProblem] = []
        """The rows of an uploaded spreadsheet that were refused (`refused_file`)."""

    @classmethod
    async def posted(cls, request: Request[Any, Any, State]) -> Form:
        """The request's form, read against the app's database (where `save` writes)."""
        return cls(await request.form(), request.app.state.db)

    def _raw(self, name: str) -> str:
        value = self.data.get(name)
        text = value.strip() if isinstance(value, str) else ""
        self.values[name] = text
        return text

    def text(self, name: str, *, required: str | None = None) -> str:
        """The field's text, trimmed; `required` is the message shown when it is empty."""
        text = self._raw(name)
        if not text and required:
            self.errors[name] = required
        return text

    def day(self, name: str, *, required: bool = True) -> date | None:
        """A date written dd/mm/yyyy."""
        text = self._raw(name)
        if not text and not required:
            return None
        try:
            return parse_date(text)
        except DateError as exc:
            self.errors[name] = exc.message_vi
            return None

    def number(self, name: str, *, label: str) -> int | None:
        """A whole number, not negative (counts of people and activities)."""
        text = self._raw(name).replace(".", "").replace(" ", "")
        if not text.isdigit():
            self.errors[name] = f"{label} phải là số nguyên không âm, ví dụ 120."
            return None
        return int(text)

    def choice(self, name: str, options: Any, *, message: str) -> str:
        text = self._raw(name)
        if text not in options:
            self.errors[name] = message
        return text

    def ident(self, name: str, *, required: str | None = None) -> uuid.UUID | None:
        """A record chosen from a list (its id)."""
        text = self._raw(name)
        if not text:
            if required:
                self.errors[name] = required
            return None
        try:
            return uuid.UUID(text)
        except ValueError:
            self.errors[name] = "Lựa chọn không hợp lệ; hãy chọn lại từ danh sách."
            return None

    def idents(self, name: str) -> list[uuid.UUID]:
        chosen: list[uuid.UUID] = []
        for value in self.data.getall(name, []):
            try:
                chosen.append(uuid.UUID(str(value)))
            except ValueError:
                self.errors[name] = "Lựa chọn không hợp lệ; hãy chọn lại từ danh sách."
        self.values[name] = [str(c) for c in chosen]
        return chosen

    def file(self, name: str) -> UploadFile | None:
        value = self.data.get(name)
        if not isinstance(value, UploadFile) or not value.filename:
            self.errors[name] = "Chưa chọn tệp .xlsx."
            return None
        return value

    def refused(self, exc: Refusal) -> None:
        """An API refusal shown next to the field it names (`documents[0]` → `documents`), else above the form
        (also above it for a stale version)."""
        field = (exc.problem.field or "").split("[")[0].split(".")[0]
        self.errors[field if field in self.values else GENERAL] = exc.problem.message
        if field == "rev":  # the record changed since the form was opened: the version is a hidden field
            self.errors[GENERAL] = exc.problem.message

    def withdrawal(self, message: str) -> int | None:
        """A withdraw form's confirm step: `message` above the form unless its box is ticked; the version the form
        was opened on (its hidden `rev`), if any."""
        if not self.text("confirm"):
            self.errors[GENERAL] = message
        rev = self.text("rev")
        return int(rev) if rev.isdigit() else None

    def refused_row(self, exc: Refusal, rows: str, prefix: str, name: Callable[[str], str | None], first: str) -> bool:
        """A refusal of one row of a repeated group (`targets[1].deadline`) next to that row's input
        (`t1_deadline`: `prefix`, the row, `name` of the field), one of the whole group (`targets`) next to `first`;
        False for any other, which the page shows as `refused` does."""
        field = exc.problem.field or ""
        found = re.fullmatch(rf"{re.escape(rows)}\[(\d+)\]\.(\w+)", field)
        suffix = name(found.group(2)) if found else None
        if found and suffix:
            self.errors[f"{prefix}{found.group(1)}_{suffix}"] = exc.problem.message
        elif field == rows:
            self.errors[first] = exc.problem.message
        else:
            return False
        return True

    def refused_above(self, exc: Refusal) -> None:
        """A refusal of the whole form (a delete, a stale version), shown above it."""
        self.errors[GENERAL] = exc.problem.message

    def refused_file(self, exc: Refusal) -> None:
        """A refused spreadsheet: its bad rows listed above the form, else the problem next to the file field."""
        self.problems = list(exc.problem.rows or [])
        self.errors[GENERAL if self.problems else "file"] = exc.problem.message

    @property
    def ok(self) -> bool:
        return not self.errors

    async def save(
        self,
        write: Callable[[AsyncConnection], Awaitable[T]],
        refused: Callable[[Refusal], None] | None = None,
    ) -> Saved[T] | None:
        """Run `write` in one transaction; a refusal is shown next to its field (by `refused`, else `self.refused`),
        nothing is written, and the answer is None so the page shows the form again."""
        try:
            async with self.db.write() as conn:
                return Saved(await write(conn))
        except Refusal as exc:
            (refused or self.refused)(exc)
            return None

    def again(
        self, template: str, page: Page | None, context: dict[str, Any], *, prefix: str = "", **extra: Any
    ) -> Template:
        """The page again (422) with what was typed and each problem next to its field, in the context's
        `<prefix>form` / `<prefix>errors`."""
        context.update({f"{prefix}form": self.values, f"{prefix}errors": self.errors}, **extra)
        return render(template, page, status_code=422, **context)


async def provide_form(request: Request[Any, Any, State]) -> Form:
    """The posted form, as a handler's `form: Posted` parameter."""
    return await Form.posted(request)


Posted: TypeAlias = NamedDependency[Form]
"""The posted form (`provide_form`); the handler's parameter is named `form`."""
