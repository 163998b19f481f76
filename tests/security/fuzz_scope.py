"""For the scoped fuzz run (D4): records seeded in the caller's sibling units, the ids and strings that mark them,
and the schemathesis check that fails when any answer carries one of them."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import strategies as st

from shared.domain.tree import Unit
from tests.domain_harness import Api
from tests.workflow_harness import FlowMaker, V

CALLER_UNIT = "H1B1"
VISIBLE_UNITS = ("H1B1", "H1B1C1")
"""The caller's subtree (its base's records are seeded too, so the fuzzer's reads have something to answer)."""
SIBLING_UNITS = ("H1B2", "H2", "H2B1", "QS", "QSB1")
"""Units outside the caller's subtree and not above it: nothing of theirs may reach the caller (D4)."""
MARK = "ZKIN"
"""In every text field of a sibling's record: a distinctive string no visible record and no fuzzer input holds."""


@dataclass
class Secrets:
    """What the caller may not see: needle → what it names, and the unit codes (matched as whole JSON strings)."""

    needles: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    hidden_ids: list[str] = field(default_factory=list)
    """Ids of sibling records and units: the fuzzer puts them into uuid slots of its requests."""
    visible_ids: list[str] = field(default_factory=list)
    """Ids the caller may use (its units, its records, the province's documents): requests that reach the data."""

    def hide(self, label: str, record: dict[str, Any]) -> None:
        self.needles[str(record["id"])] = label
        self.hidden_ids.append(str(record["id"]))

    def leaks(self, content: bytes, echo: str = "") -> list[str]:
        """What of the hidden appears in an answer (JSON walked value by value; a zip's parts searched as text).

        `echo` is the request's own text: a refusal that repeats an id the caller sent tells them nothing new.
        """
        texts: list[str] = []
        values: list[str] = []
        try:
            values = list(_strings(json.loads(content)))
            texts = values
        except (ValueError, UnicodeDecodeError):
            texts = [content.decode("utf-8", "replace"), *_zip_texts(content)]
        needles = {needle: label for needle, label in self.needles.items() if needle not in echo}
        found = {label for needle, label in needles.items() for t in texts if needle in t}
        found |= {label for code, label in self.codes.items() for v in values if v == code}
        found |= {label for code, label in self.codes.items() for t in texts if f">{code}<" in t}
        return sorted(found)


def _strings(value: Any) -> Any:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _zip_texts(content: bytes) -> list[str]:
    """The text parts of an .xlsx/.docx answer (bounded: this is the test's own server)."""
    if not content.startswith(b"PK"):
        return []
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        return [z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith((".xml", ".rels"))]


def aim(case: Any, data: st.DataObject, pool: list[str]) -> None:
    """Point the case's uuid slots (path, query, body) at seeded ids, hidden and visible, so requests reach them."""

    def swap(value: Any) -> Any:
        if isinstance(value, str) and _is_uuid(value):
            return data.draw(st.sampled_from(pool))
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    if case.path_parameters:
        case.path_parameters = swap(case.path_parameters)
    if case.query:
        case.query = swap(case.query)
    if isinstance(case.body, dict | list):
        case.body = swap(case.body)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return len(text) == 36


async def seed_scope(url: str, units: dict[str, Unit], admin: dict[str, str]) -> Secrets:
    """Records in the caller's subtree and in every sibling unit, written through the API by the province's admin."""
    secrets = Secrets()
    for code in SIBLING_UNITS:
        unit = units[code]
        secrets.codes[code] = f"unit {code}"
        secrets.needles[str(unit.id)] = f"unit {code}"
        secrets.needles[unit.versions[0].name] = f"unit {code} (name)"
        secrets.hidden_ids.append(str(unit.id))
    secrets.needles[MARK] = "a sibling's record (text)"
    secrets.visible_ids = [str(units[c].id) for c in VISIBLE_UNITS]
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        api = Api(client, None, units, {("TU", "admin"): admin})  # type: ignore[arg-type]
        mk = FlowMaker(api)
        province_doc = await mk.doc("TU")
        secrets.visible_ids.append(province_doc["id"])
        for rec in await _records(mk, CALLER_UNIT, province_doc, text=f"Của {CALLER_UNIT}"):
            secrets.visible_ids.append(str(rec["id"]))
        for code in SIBLING_UNITS:
            for kind, rec in zip(_KINDS, await _records(mk, code, province_doc, text=f"{MARK} {code}"), strict=True):
                secrets.hide(f"{kind} of {code}", rec)
            user = await api.ok(
                "POST",
                f"{V}/users",
                json={"username": f"zkin-{code.lower()}", "password": "mot-mat-khau-dai", "role": "editor"}
                | {"unit": str(units[code].id)},
            )
            secrets.hide(f"account of {code}", user)
            secrets.needles[f"zkin-{code.lower()}"] = f"account of {code} (username)"
        # The district's own members are not its base's to see either (D4: own subtree only, records travel up).
        secrets.hide("member of H1", await mk.member("H1", full_name=f"{MARK} cán bộ huyện"))
    return secrets


_KINDS = (
    "document",
    "member",
    "essay",
    "template",
    "study session",
    "propaganda",
    "programme",
    "questionnaire",
    "survey response",
    "report draft",
    "review plan",
)


async def _records(mk: FlowMaker, code: str, province_doc: dict[str, Any], *, text: str) -> list[dict[str, Any]]:
    """One record of each kind owned by `code` (in `_KINDS` order), `text` in their text fields."""
    doc = await mk.doc(code, title=f"{text} nghị quyết", lead_agency=f"{text} ban")
    member = await mk.member(code, full_name=f"{text} đảng viên")
    essay = await mk.essay(code, member, province_doc)
    template = await mk.template(code, province_doc)
    session = await mk.session(code, province_doc)
    propaganda = await mk.propaganda(code)
    programme = await mk.programme(code, province_doc, title=f"{text} chương trình", situation=f"{text} khảo sát")
    questionnaire = await mk.questionnaire(code, title=f"{text} phiếu")
    response = await mk.response(code, questionnaire)
    draft = await mk.draft(code, province_doc)
    plan = await mk.plan(code)
    return [doc, member, essay, template, session, propaganda, programme, questionnaire, response, draft, plan]
