"""The demo's second half: a hub and district and base nodes as real processes on loopback, the work of a study
round entered at each node through its own API, sync up the tree (one base straight to the hub while its district
is down), and the hub's consolidated report (D20, D26) printed and written as .xlsx and .docx.

Each step is a `DemoStep` appended to `server.demo.STEPS`: the hub also sends a questionnaire down (D22), the nodes
build action programmes and report progress (D14, D15, D18), a district sends its report draft up and the hub
decides on it (D23-D25b).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import random
import socket
import sys
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import click
import httpx
from rich.table import Table
from sqlalchemy import select

from server.jobs import Jobs
from shared.accounts.service import create_user, hash_password
from shared.catalogue import build_registry
from shared.commands import unit_by_code
from shared.consolidation.labels import document_name, groups_vi, question_result_vi
from shared.consolidation.service import consolidate
from shared.db.engine import Database
from shared.domain.consolidation import BANDS, Consolidation, total
from shared.domain.formatting import format_date, format_decimal, format_percent
from shared.domain.tree import UnitKind
from shared.members.counts import refresh_roster_counts
from shared.sample_province import LEVEL_COMMUNE
from shared.settings import Settings, SyncSettings, sqlite_url
from shared.sync.parent import Parent
from shared.sync.tables import UnitRow

PASSWORD = "mat-khau-ban-demo"
"""The demo's accounts only: each instance has its own, made with `user-add`."""
NODES_DIR = "nodes"
START_SECONDS = 120.0
"""How long a process may take to answer /health; a busy two-core machine needs tens of seconds."""
REPORTS_DIR = "bao-cao"
CENTRAL = ("45-NQ/TW", "Nghị quyết mẫu của Ban Chấp hành Trung ương (mô phỏng)", date(2021, 11, 24))
PROVINCIAL = ("15-NQ/TU", "Nghị quyết mẫu của Tỉnh ủy (mô phỏng)", date(2021, 12, 20))
ROUND_START = date(2022, 3, 1)
"""Essays are graded from here; the provincial resolution's preliminary review falls due on 20/12/2024 (D16)."""


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


def nqsync_command() -> list[str]:
    script = Path(sys.executable).with_name("nqsync")
    return [str(script)] if script.exists() else [sys.executable, "-c", "from shared.cli import main; main()"]


def _env() -> dict[str, str]:
    # Every process of the demo uses its own folder's SQLite file, whatever the environment configures.
    env = {k: v for k, v in os.environ.items() if not k.startswith("NQSYNC_")}
    env.update(COLUMNS="120", PYTHONIOENCODING="utf-8")
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CommandFailed(click.ClickException):
    """A process or request of the demo failed; printed in plain words by click."""


async def cli(*args: str, stdin: str | None = None, check: bool = True) -> str:
    proc = await asyncio.create_subprocess_exec(
        *nqsync_command(),
        *args,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_env(),
    )
    out, err = await proc.communicate(stdin.encode() if stdin is not None else None)
    text = out.decode("utf-8", "replace") + err.decode("utf-8", "replace")
    if check and proc.returncode != 0:
        raise CommandFailed(f"nqsync {' '.join(args)} → {proc.returncode}\n{text}")
    return text


@dataclass
class Instance:
    """One running process of the demo: the hub or a node, its folder, address and signed-in API client."""

    code: str
    name: str
    data: Path
    role: str
    port: int = 0
    proc: asyncio.subprocess.Process | None = None
    token: str = ""
    unit: uuid.UUID | None = None
    client: httpx.AsyncClient | None = None
    """Kept for the instance's life: a new client per request builds an SSL context each time, for nothing."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.port = self.port or free_port()
        args = [self.role, "serve", "--data", str(self.data), "--port", str(self.port)]
        if self.role == "node":
            args += ["--interval", "3600"]  # the demo syncs explicitly, so each step shows what travelled
        self.proc = await asyncio.create_subprocess_exec(
            *nqsync_command(),
            *args,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            env=_env(),
        )
        deadline = asyncio.get_running_loop().time() + START_SECONDS
        async with httpx.AsyncClient() as client:
            while asyncio.get_running_loop().time() < deadline:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/health")).status_code == 200:
                        return
                if self.proc.returncode is not None:
                    raise CommandFailed(f"{self.role} serve for {self.code} exited with {self.proc.returncode}")
                await asyncio.sleep(0.1)
        raise CommandFailed(f"{self.code} did not start")

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.aclose()
            self.client = None
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), 20)
            if self.proc.returncode is None:
                self.proc.kill()
                await self.proc.wait()
        self.proc = None

    def database(self) -> Database:
        return Database(sqlite_url(self.data / "nqsync.sqlite3"))

    async def sign_in(self, unit_code: str) -> None:
        """An admin account for the unit on this instance (what `user-add` does), then a login over HTTP."""
        db = self.database()
        try:
            async with db.write() as conn:
                unit = await conn.scalar(
                    select(UnitRow.id).where(UnitRow.code == unit_code, UnitRow.valid_to.is_(None))
                )
                assert unit is not None, unit_code
                await create_user(
                    conn, username=f"vp-{unit_code.lower()}", unit=unit, role="admin", password_hash=_password_hash()
                )
        finally:
            await db.dispose()
        async with httpx.AsyncClient(base_url=self.url) as client:
            reply = await client.post(
                "/api/v1/auth/login", json={"username": f"vp-{unit_code.lower()}", "password": PASSWORD}
            )
            reply.raise_for_status()
            body = reply.json()
        self.token = body["token"]
        self.unit = uuid.UUID(body["user"]["unit"])

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("POST", path, json=body)
        return result

    async def get(self, path: str, **params: str) -> Any:
        return await self._call("GET", path, params=params)

    async def _call(self, method: str, path: str, **kw: Any) -> Any:
        if self.client is None:
            self.client = httpx.AsyncClient(base_url=self.url)
        headers = {"Authorization": f"Bearer {self.token}"}
        reply = await self.client.request(method, f"/api/v1{path}", headers=headers, **kw)
        if reply.status_code >= 400:
            raise CommandFailed(f"{method} {path} at {self.code}: {reply.status_code} {reply.text}")
        return reply.json()


@dataclass
class Cluster:
    """What the cluster steps share: the instances, the demo's documents, and the counts entered, to print."""

    hub: Instance
    districts: list[Instance] = field(default_factory=list)
    bases: dict[str, list[Instance]] = field(default_factory=dict)
    """District code → its base nodes."""
    documents: dict[str, str] = field(default_factory=dict)
    """Number → id."""
    entered: dict[str, int] = field(default_factory=dict)
    questionnaire: str = ""
    draft: str = ""
    """The report draft the first district sends up (D24, D25)."""
    consolidation: Consolidation | None = None

    @property
    def nodes(self) -> list[Instance]:
        return [*self.districts, *(b for bs in self.bases.values() for b in bs)]

    async def stop(self) -> None:
        await asyncio.gather(*(i.stop() for i in [*self.nodes, self.hub]))


def _cluster(run: Any) -> Cluster:
    cluster: Cluster = run.extra["cluster"]
    return cluster


def _n(value: int) -> str:
    return format_decimal(value)


async def start_hub(run: Any) -> None:
    hub = Instance("TU", "Tỉnh ủy", run.data_dir, "server")
    run.extra["cluster"] = Cluster(hub)
    await hub.start()
    await hub.sign_in(run.tree.code_of(run.tree.roots[0]))
    run.console.print(f"Máy chủ tỉnh (SQLite trong {run.data_dir}) chạy tại {hub.url}; tài khoản vp-tu đã đăng nhập.")


async def enter_documents(run: Any) -> None:
    cluster = _cluster(run)
    hub = cluster.hub
    for number, title, signed in (CENTRAL, PROVINCIAL):
        doc = await hub.post(
            "/documents",
            {
                "number": number,
                "title": title,
                "signed_on": signed.isoformat(),
                "lead_agency": "Ban Tuyên giáo và Dân vận Tỉnh ủy",
                "term": "2020-2025",
            },
        )
        cluster.documents[number] = doc["id"]
        run.console.print(f"  • Nhập {document_name(number)} ký ngày {format_date(signed)}: {title}")
    plans: list[dict[str, Any]] = [
        {"plan_kind": "year", "number": "01-KH/TU", "issued_on": "2023-12-15", "year": 2024},
        {"plan_kind": "term", "number": "05-KH/TU", "issued_on": "2025-10-20", "period_start": "2025-10-15"},
    ]
    for plan in plans:
        made = await hub.post("/review-plans", plan)
        run.console.print(
            f"  • Kế hoạch {made['number']} ({'năm 2024' if plan['plan_kind'] == 'year' else 'nhiệm kỳ 2025-2030'}):"
            f" {len(made['items'])} mốc sơ kết, tổng kết (D19)."
        )


def _pick_units(run: Any) -> dict[str, list[str]]:
    """Two commune committees with base organisations that hold their own rosters: two bases under the first."""
    tree = run.tree
    picked: dict[str, list[str]] = {}
    for child in tree.children(tree.roots[0]):
        unit = tree.units[child]
        if unit.level != LEVEL_COMMUNE or unit.armed_forces:
            continue
        bases = [
            k for k in tree.children(child) if tree.units[k].kind is UnitKind.BASE_ORGANISATION and not tree.children(k)
        ]
        if len(bases) >= 2:
            picked[tree.code_of(child)] = [tree.code_of(b) for b in bases[: 2 if not picked else 1]]
        if len(picked) == 2:
            break
    return picked


async def issue_code(parent: Instance, child_code: str) -> str:
    """A one-time enrolment code from the parent's database (what `nqsync server|node enroll` prints)."""
    db = parent.database()
    try:
        service = Parent(db, build_registry(), SyncSettings())
        return await service.issue_code(await unit_by_code(service, child_code))
    finally:
        await db.dispose()


async def _enrol(parent: Instance, child: Instance) -> None:
    code = await issue_code(parent, child.code)
    await cli("node", "init", "--data", str(child.data), "--parent", parent.url, "--code", code,
              "--label", f"máy văn phòng {child.code}")  # fmt: skip
    await child.start()
    await child.sign_in(child.code)


async def start_nodes(run: Any) -> None:
    cluster = _cluster(run)
    tree = run.tree
    by_code = {tree.code_of(u): u for u in tree.units}
    picked = _pick_units(run)
    for district_code, base_codes in picked.items():
        district = Instance(district_code, tree.name_of(by_code[district_code]), _node_dir(run, district_code), "node")
        cluster.districts.append(district)
        cluster.bases[district_code] = [
            Instance(c, tree.name_of(by_code[c]), _node_dir(run, c), "node") for c in base_codes
        ]

    async def branch(district: Instance) -> None:
        await _enrol(cluster.hub, district)
        await asyncio.gather(*(_enrol(district, b) for b in cluster.bases[district.code]))

    # Districts enrol with the hub and their bases with them side by side, as separate offices would.
    await asyncio.gather(*(branch(d) for d in cluster.districts))
    for district in cluster.districts:
        bases = cluster.bases[district.code]
        run.console.print(
            f"  • Nút huyện {district.code} {district.name} tại {district.url}; nút cơ sở: "
            + ", ".join(f"{b.code} {b.name} ({b.url})" for b in bases)
        )


def _node_dir(run: Any, code: str) -> Path:
    return Path(run.data_dir) / NODES_DIR / code


async def record_round(run: Any) -> None:
    """Each base enters its roster, grades and rewrites, a study session, propaganda and its held review; each
    district its own session and propaganda; all through the node's local API, as its office staff would."""
    cluster = _cluster(run)
    rng = random.Random(run.seed)
    doc = cluster.documents[PROVINCIAL[0]]
    members_per_base = max(12, round(40 * min(run.scale, 1.0)))
    late_base = cluster.bases[cluster.districts[0].code][-1].code
    entered = cluster.entered
    for district in cluster.districts:
        await district.post("/study-sessions", {
            "title": f"Hội nghị quán triệt {PROVINCIAL[0]}", "documents": [doc], "held_on": "2022-01-20",
            "form": "mixed", "invited": 150, "attended": 142, "participants": "Cán bộ chủ chốt",
        })  # fmt: skip
        await district.post("/propaganda", {
            "channel": "it", "document": doc, "period_start": "2022-01-01", "period_end": "2022-06-30",
            "count": 12, "reached": 8000,
        })  # fmt: skip
        bases = cluster.bases[district.code]

        async def one_base(base: Instance) -> None:
            await _base_round(base, doc, rng.randrange(1 << 30), members_per_base, entered, late=base.code == late_base)

        await asyncio.gather(*(one_base(b) for b in bases))
        if district is cluster.districts[0]:
            # D21: the other bases of the sample commune have no node in the demo, so the district waives them.
            await district.post("/review-reports", {
                "document": doc, "kind": "preliminary", "held_on": "2024-12-02",
                "waived_reason": "Các chi bộ chưa có máy (nút) báo cáo bằng văn bản giấy.",
            })  # fmt: skip
    run.console.print(
        f"Đã nhập tại các nút: {_n(entered['members'])} đảng viên trong danh sách, {_n(entered['essays'])} lượt "
        f"chấm bài thu hoạch (trong đó {_n(entered['rewrites'])} bài viết lại sau khi xếp loại Yếu), "
        f"{_n(entered['sessions'] + len(cluster.districts))} buổi học tập, "
        f"{_n(entered['propaganda'] + len(cluster.districts))} đợt tuyên truyền."
    )
    for node in cluster.nodes:
        db = node.database()
        try:
            async with db.write() as conn:
                await refresh_roster_counts(conn, ROUND_START)
        finally:
            await db.dispose()


async def _base_round(
    base: Instance, doc: str, seed: int, members: int, entered: dict[str, int], *, late: bool
) -> None:
    rng = random.Random(seed)
    for k in ("members", "essays", "rewrites", "sessions", "propaganda"):
        entered.setdefault(k, 0)
    for i in range(members):
        category = "obliged" if i < 2 or rng.random() < 0.75 else rng.choice(["over_60", "retired", "health"])
        member = await base.post("/members", {
            "full_name": f"Đảng viên mẫu {base.code}-{i + 1:03d}",
            "birth_year": 1950 if category in ("over_60", "retired") else rng.randint(1965, 2000),
            "obligation": category,
        })  # fmt: skip
        entered["members"] += 1
        if i >= 2 and rng.random() > (0.95 if category == "obliged" else 0.6):
            continue
        day = ROUND_START + timedelta(days=rng.randint(0, 40))
        # The first two members of every base are weak; only the second rewrites (D13): one rewrite stays open.
        tenths = rng.randint(30, 49) if i < 2 else rng.choice([rng.randint(30, 49)] + [rng.randint(55, 100)] * 6)
        await base.post("/essays", {"member": member["id"], "document": doc, "score": _score(tenths),
                                     "graded_on": day.isoformat()})  # fmt: skip
        entered["essays"] += 1
        if tenths < 50 and (i == 1 or (i > 1 and rng.random() < 0.6)):
            await base.post("/essays", {"member": member["id"], "document": doc, "score": _score(rng.randint(55, 85)),
                                         "graded_on": (day + timedelta(days=21)).isoformat()})  # fmt: skip
            entered["essays"] += 1
            entered["rewrites"] += 1
    await base.post("/study-sessions", {
        "title": "Học tập nghị quyết tại chi bộ", "documents": [doc], "held_on": "2022-02-10", "form": "in_person",
        "invited": members, "attended": members - rng.randint(0, 3), "participants": "Toàn thể đảng viên",
    })  # fmt: skip
    await base.post("/propaganda", {
        "channel": rng.choice(["loudspeaker", "oral"]), "document": doc, "period_start": "2022-01-15",
        "period_end": "2022-12-31", "count": rng.randint(5, 30), "reached": rng.randint(300, 2000),
    })  # fmt: skip
    entered["sessions"] += 1
    entered["propaganda"] += 1
    held = "2024-11-29" if late else "2024-11-18"  # bases are due on 22/11/2024 (D21, D25a)
    await base.post("/review-reports", {"document": doc, "kind": "preliminary", "held_on": held})


def _score(tenths: int) -> str:
    """As a grader types it: `8,5`, `10,0` (D13)."""
    return f"{tenths // 10},{tenths % 10}"


SURVEY_TITLE = f"Khảo sát mức độ tiếp thu, vận dụng Nghị quyết {PROVINCIAL[0]}"
SURVEY_QUESTIONS: list[dict[str, Any]] = [
    {"key": "q1", "kind": "single", "text": "Đồng chí đã được học tập, quán triệt nghị quyết chưa?",
     "options": ["Đã học tập", "Chưa học tập"]},
    {"key": "q2", "kind": "multiple", "text": "Đồng chí tiếp cận nội dung nghị quyết qua hình thức nào?",
     "options": ["Hội nghị", "Tài liệu", "Loa truyền thanh", "Mạng xã hội"]},
    {"key": "q3", "kind": "scale", "text": "Mức độ hiểu nội dung nghị quyết (1: chưa hiểu, 5: hiểu rõ)",
     "scale_min": 1, "scale_max": 5},
    {"key": "q4", "kind": "number", "text": "Số buổi sinh hoạt chuyên đề về nghị quyết đã dự trong năm"},
    {"key": "q5", "kind": "text", "text": "Đề xuất, kiến nghị", "required": False},
]  # fmt: skip
RESPONDENTS = ("member", "member", "cadre", "cadre", "public", "public")
"""Who each base selects (D22: đảng viên, cán bộ, quần chúng, chosen to be representative)."""
DRAFT_NUMBER = "25-BC/ĐU"


async def issue_questionnaire(run: Any) -> None:
    """The hub sends a questionnaire on the provincial resolution down its subtree (D22); the nodes' first sync
    brings it to them."""
    cluster = _cluster(run)
    made = await cluster.hub.post("/questionnaires", {
        "title": SURVEY_TITLE, "document": cluster.documents[PROVINCIAL[0]], "method": "form",
        "opens_on": "2024-10-01", "closes_on": "2024-11-30", "questions": SURVEY_QUESTIONS,
        "respondents_per_unit": len(RESPONDENTS),
    })  # fmt: skip
    cluster.questionnaire = made["id"]
    run.console.print(
        f"  • Phiếu «{SURVEY_TITLE}»: {_n(len(SURVEY_QUESTIONS))} câu hỏi, từ {format_date(date(2024, 10, 1))} "
        f"đến {format_date(date(2024, 11, 30))}, mỗi cơ sở chọn {_n(len(RESPONDENTS))} người (D22)."
    )


async def record_programmes_and_surveys(run: Any) -> None:
    """Bases answer the survey; districts and bases build action programmes and report progress; the first
    district writes its review report, has it approved and sends it up (D24, D25), its bases' reports waived."""
    cluster = _cluster(run)
    rng = random.Random(run.seed + 1)
    doc = cluster.documents[PROVINCIAL[0]]
    done: dict[str, int] = {"responses": 0, "programmes": 0, "targets": 0, "progress": 0}
    for district in cluster.districts:
        await _programme(district, doc, rng.randrange(1 << 30), "2022-02-15", done)

        async def one_base(base: Instance) -> None:
            seed = rng.randrange(1 << 30)
            await _programme(base, doc, seed, "2022-03-10", done)
            await _survey_answers(base, cluster.questionnaire, seed, done)

        await asyncio.gather(*(one_base(b) for b in cluster.bases[district.code]))
    run.console.print(
        f"Đã nhập tại các nút: {_n(done['responses'])} phiếu khảo sát đã trả lời, {_n(done['programmes'])} chương "
        f"trình hành động với {_n(done['targets'])} chỉ tiêu, {_n(done['progress'])} báo cáo tiến độ chỉ tiêu."
    )
    first = cluster.districts[0]
    waived = await _send_draft_up(first, doc, cluster)
    run.console.print(
        f"  • {first.code} miễn báo cáo của {_n(waived)} cơ sở trực thuộc (báo cáo giấy, D25b); dự thảo báo cáo sơ "
        f"kết trình ngày 27/11/2024, thông qua ngày 02/12/2024, ban hành số {DRAFT_NUMBER} ngày 03/12/2024 (D24, D25)."
    )


async def _programme(node: Instance, doc: str, seed: int, issued: str, done: dict[str, int]) -> None:
    """A programme with a rising and a falling target (D15), progress for 2022 and 2023 reported in January of the
    next year (D18), and a 2024 figure reported after the review's cut-off."""
    rng = random.Random(seed)
    made = await node.post("/action-programmes", {
        "document": doc, "title": f"Chương trình hành động thực hiện Nghị quyết {PROVINCIAL[0]}", "issued_on": issued,
        "situation": "Khảo sát thực trạng đầu năm 2022: 85% đảng viên viết bài thu hoạch đạt yêu cầu; 4 đảng viên "
        "vi phạm kỷ luật năm 2021.",
        "targets": [
            {"indicator": "Tỷ lệ đảng viên viết bài thu hoạch đạt yêu cầu", "measure": "%", "baseline": "85",
             "baseline_source": "Báo cáo tổng kết năm 2021", "target_value": "95", "deadline": "2024-12-31"},
            {"indicator": "Số đảng viên vi phạm kỷ luật đảng", "measure": "người", "baseline": "4",
             "baseline_source": "Báo cáo công tác kiểm tra năm 2021", "target_value": "1", "deadline": "2024-06-30"},
        ],
        "tasks": [{"title": "Tổ chức học tập, quán triệt nghị quyết", "lead_unit": str(node.unit)}],
    })  # fmt: skip
    rising, falling = made["targets"]
    values = [
        (rising, 2022, rng.randint(86, 91), "2023-01-10"),
        (rising, 2023, rng.randint(90, 97), "2024-01-10"),
        (falling, 2022, rng.randint(1, 4), "2023-01-10"),
        (falling, 2023, rng.randint(0, 2), "2024-01-10"),
        (rising, 2024, 99, "2025-01-08"),  # after the cut-off: not in the preliminary review
    ]
    for target, year, value, on in values:
        await node.post("/programme-progress", {
            "programme": made["id"], "target": target["key"], "year": year, "value": str(value), "reported_on": on,
        })  # fmt: skip
    done["programmes"] += 1
    done["targets"] += len(made["targets"])
    done["progress"] += len(values)


async def _survey_answers(base: Instance, questionnaire: str, seed: int, done: dict[str, int]) -> None:
    rng = random.Random(seed)
    options = SURVEY_QUESTIONS[1]["options"]
    for i, group in enumerate(RESPONDENTS):
        person = await base.post("/survey-respondents", {
            "questionnaire": questionnaire, "full_name": f"Người được khảo sát {base.code}-{i + 1}", "group": group,
        })  # fmt: skip
        answers: list[dict[str, Any]] = [
            {"question": "q1", "choices": ["Đã học tập" if rng.random() < 0.85 else "Chưa học tập"]},
            {"question": "q2", "choices": rng.sample(options, rng.randint(1, 3))},
            {"question": "q3", "value": rng.randint(2, 5)},
            {"question": "q4", "value": rng.randint(1, 12)},
        ]
        if i % 3 == 0:
            answers.append({"question": "q5", "text": "Tăng cường sinh hoạt chuyên đề tại chi bộ."})
        await base.post("/survey-responses", {
            "questionnaire": questionnaire, "respondent": person["id"],
            "answered_on": (date(2024, 10, 7) + timedelta(days=rng.randint(0, 40))).isoformat(), "answers": answers,
        })  # fmt: skip
        done["responses"] += 1


async def _send_draft_up(district: Instance, doc: str, cluster: Cluster) -> int:
    """D24, D25b: a level approves its report once its lower units' are in or waived; returns how many it waived."""
    status = await district.get("/reports/completeness", document=doc, kind="preliminary", today="2024-12-01")
    depth = next(u["depth"] for u in status["units"] if u["unit"] == str(district.unit))
    below = [
        u for u in status["units"] if u["depth"] == depth + 1 and u["state"] not in ("received", "accepted", "waived")
    ]
    for unit in below:
        await district.post("/report-decisions", {
            "action": "waive", "subject_unit": unit["unit"], "document": doc, "kind": "preliminary",
            "decided_on": "2024-12-01", "reason": "Cơ sở đã báo cáo bằng văn bản giấy, chưa có bản điện tử.",
        })  # fmt: skip
    draft = await district.post("/report-drafts", {
        "document": doc, "kind": "preliminary", "title": f"Báo cáo sơ kết 3 năm thực hiện Nghị quyết {PROVINCIAL[0]}",
        "written_on": "2024-11-25", "sections": [
            {"key": "1", "heading": "Kết quả học tập, quán triệt và tổ chức thực hiện",
             "text": "Các chi bộ, đảng bộ cơ sở đã tổ chức học tập đầy đủ; xây dựng chương trình hành động."},
            {"key": "2", "heading": "Hạn chế, nguyên nhân", "text": "Một số bài thu hoạch còn sơ sài."},
        ],
    })  # fmt: skip
    for action, body in (
        ("submit", {"submitted_on": "2024-11-27"}),
        ("approve", {"approved_on": "2024-12-02"}),
        ("issue", {"issued_on": "2024-12-03", "report_number": DRAFT_NUMBER}),
    ):
        await district.post(f"/report-drafts/{draft['id']}/{action}", body)
    cluster.draft = draft["id"]
    return len(below)


async def decide_on_drafts(run: Any) -> None:
    """The hub reads the district's report that arrived with the sync and returns it for correction (D25b)."""
    cluster = _cluster(run)
    district = cluster.districts[0]
    reason = "Bổ sung kết quả khảo sát và tiến độ chỉ tiêu của các cơ sở trực thuộc."
    made = await cluster.hub.post("/report-decisions", {
        "action": "return", "subject_unit": str(district.unit), "document": cluster.documents[PROVINCIAL[0]],
        "kind": "preliminary", "decided_on": "2024-12-10", "reason": reason, "correct_by": "2024-12-17",
    })  # fmt: skip
    run.console.print(
        f"  • Tỉnh ủy trả lại báo cáo {DRAFT_NUMBER} (phiên bản {made['version']}) của {district.code} "
        f"{district.name} ngày 10/12/2024 để sửa, hạn 17/12/2024 (D25b). Lý do: {reason}"
    )


async def sync_up(run: Any) -> None:
    cluster = _cluster(run)
    console = run.console
    first, second = cluster.districts
    for base in cluster.bases[first.code]:
        await cli("node", "sync", "--data", str(base.data))
        console.print(f"  • {base.code} → {first.code}: đã gửi lên cấp trên.")
    await cli("node", "sync", "--data", str(first.data))
    console.print(f"  • {first.code} → Tỉnh ủy: đã gửi lên, gồm cả số liệu của các cơ sở trực thuộc.")
    await second.stop()
    console.print(f"  • [yellow]Nút huyện {second.code} ngừng hoạt động (mất điện, mất mạng).[/]")
    for base in cluster.bases[second.code]:
        failed = await cli("node", "sync", "--data", str(base.data), check=False)
        console.print(f"  • {base.code} → {second.code}: không kết nối được ({_first_line(failed)}).")
        code = await issue_code(cluster.hub, base.code)
        await cli("node", "init", "--data", str(base.data), "--parent", cluster.hub.url, "--code", code,
                  "--priority", "10", "--label", "đường dự phòng")  # fmt: skip
        console.print(f"  • {base.code} → Tỉnh ủy trực tiếp (đường dự phòng, --priority 10): đã gửi lên.")
    await second.start()
    await cli("node", "sync", "--data", str(second.data))
    console.print(f"  • {second.code} hoạt động trở lại và đồng bộ: số liệu của chính huyện đã lên Tỉnh ủy.")


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "lỗi"


async def consolidate_at_hub(run: Any) -> None:
    cluster = _cluster(run)
    db: Database = run.db
    from shared.core.scope import unit_info

    async with db.read() as conn:
        top = await unit_info(conn, run.tree.roots[0])
        assert top is not None
        result = await consolidate(
            conn, top, uuid.UUID(cluster.documents[PROVINCIAL[0]]), "preliminary", today=run.today
        )
    cluster.consolidation = result
    console = run.console
    e = result.figures.essays
    console.print(
        f"{result.kind_vi} {document_name(result.document_number)}: số liệu tính đến ngày "
        f"{format_date(result.cut_off)} (D20), tổng hợp ngày {format_date(result.today)}."
    )
    table = Table(title="Bài thu hoạch theo đơn vị trực thuộc (lần viết gần nhất, D12, D13)", title_justify="left")
    for col in ("Đơn vị", "Bắt buộc", "Đã viết", "Tỷ lệ", *[str(b) for b in BANDS], "Yếu chưa viết lại",
                "Khuyến khích: viết/số"):  # fmt: skip
        if col == "Đơn vị":
            table.add_column(col, no_wrap=True, max_width=34, overflow="ellipsis")
        else:
            table.add_column(col, justify="right")
    shown = [r for r in result.children if r.figures.essays.wrote or r.figures.essays.obliged.members]
    for row in [
        *((f"{r.unit.code} {r.unit.name}", r.figures) for r in shown),
        ("Tổng cộng (toàn tỉnh)", result.figures),
    ]:
        label, f = row
        g = f.essays
        if label.startswith("Tổng"):
            table.add_section()
        table.add_row(
            label, _n(g.obliged.members), _n(g.obliged.wrote), g.obliged.rate, *[_n(g.band(b)) for b in BANDS],
            _n(g.rewrites_open), f"{_n(g.encouraged.wrote)}/{_n(g.encouraged.members)}",
        )  # fmt: skip
    console.print(table)
    check = result.own + total(r.figures for r in result.children) == result.figures
    console.print(
        f"Đối chiếu: tỉnh = cấp tỉnh trực tiếp + tổng {_n(len(result.children))} đơn vị trực thuộc: "
        + ("[green]khớp[/]" if check else "[red]KHÔNG KHỚP[/]")
        + f". Chưa viết (diện bắt buộc): {_n(e.shortfall)}; "
        f"đã viết lại: {_n(e.obliged.rewritten + e.encouraged.rewritten)}."
    )
    s, p, r = result.figures.study, result.figures.propaganda.total, result.figures.reports
    console.print(
        f"Học tập, quán triệt: {_n(s.sessions)} buổi, {_n(s.attended)}/{_n(s.invited)} lượt dự ({s.attendance}). "
        f"Tuyên truyền: {_n(p.activities)} hoạt động, {_n(p.reached)} lượt người."
    )
    console.print(
        f"Báo cáo sơ kết của các cấp: phải có {_n(r.expected)}, đã nhận {_n(r.received)} ({r.completeness}), "
        f"đúng hạn {_n(r.on_time)}, trễ hạn {_n(r.late)}, quá hạn chưa nộp {_n(r.overdue)}."
    )
    _print_programmes_and_surveys(console, result)
    ours = {i.code for i in [*cluster.nodes]}
    late = [i for i in result.late if i.unit.code in ours]
    if late:
        lt = Table(title="Trễ hạn, quá hạn (các đơn vị có nút trong bản demo)", title_justify="left")
        for col in ("Đơn vị", "Hạn nộp", "Ngày nộp", "Tình trạng"):
            lt.add_column(col)
        for item in late:
            lt.add_row(f"{item.unit.code} {item.unit.name}", format_date(item.due),
                       format_date(item.held_on) if item.held_on else "—", item.status.value)  # fmt: skip
        console.print(lt)
    others = len(result.late) - len(late)
    if others:
        console.print(f"[dim]… và {_n(others)} đơn vị khác của tỉnh mẫu chưa có dữ liệu (không có nút trong demo).[/]")
    run.facts["round"] = (
        f"{_n(e.wrote)} bài thu hoạch ({format_percent(e.obliged.wrote, e.obliged.members)} diện bắt buộc), "
        f"{_n(e.rewrites_open)} bài Yếu chưa viết lại"
    )


def _print_programmes_and_surveys(console: Any, result: Consolidation) -> None:
    table = Table(
        title="Chương trình hành động (D14, D15, D18) và khảo sát (D22) theo đơn vị trực thuộc", title_justify="left"
    )
    table.add_column("Đơn vị", no_wrap=True, max_width=34, overflow="ellipsis")
    for col in ("Chương trình", "Chỉ tiêu", "Đã báo cáo", "Đạt", "Quá hạn chưa đạt", "Phiếu khảo sát"):
        table.add_column(col, justify="right")
    shown = [r for r in result.children if r.figures.programmes.programmes or r.figures.surveys.responses]
    rows = [(f"{r.unit.code} {r.unit.name}", r.figures) for r in shown] + [("Tổng cộng (toàn tỉnh)", result.figures)]
    for label, f in rows:
        p = f.programmes
        if label.startswith("Tổng"):
            table.add_section()
        table.add_row(label, _n(p.programmes), _n(p.targets), _n(p.reported), _n(p.met), _n(p.overdue),
                      _n(f.surveys.responses))  # fmt: skip
    console.print(table)
    for _, q in result.figures.surveys.ordered():
        console.print(f"Khảo sát «{q.title}»: {_n(q.responses)} phiếu ({groups_vi(q.by_group)}).", soft_wrap=True)
        for i, question in enumerate(q.questions, 1):
            console.print(f"  {i}. {question.text}: {question_result_vi(question)}", soft_wrap=True)


async def write_reports(run: Any) -> None:
    cluster = _cluster(run)
    out = Path(run.data_dir) / REPORTS_DIR
    settings = Settings.load(data_dir=run.data_dir, env={})
    jobs = Jobs(settings)  # no Redis in the demo: the job functions run in this process
    paths = await jobs.run(
        "render_report", cluster.documents[PROVINCIAL[0]], "preliminary",
        today=run.today.isoformat(), out_dir=str(out), years=3,
    )  # fmt: skip
    reminders = await jobs.run("deadline_reminders", today=run.today.isoformat())
    for text in reminders:
        run.console.print(f"  • Nhắc việc: {text}")
    run.console.print(f"Đã ghi báo cáo vào thư mục {out}:", soft_wrap=True)
    run.console.print(f"  • {Path(paths['xlsx']).name} (bảng tổng hợp .xlsx)", soft_wrap=True)
    run.console.print(f"  • {Path(paths['docx']).name} (báo cáo sơ kết .docx)", soft_wrap=True)
    run.facts["files"] = f"báo cáo trong {out}"


async def stop_cluster(run: Any) -> None:
    cluster = run.extra.get("cluster")
    if cluster is not None:
        await cluster.stop()
        run.console.print(f"Đã dừng {1 + len(cluster.nodes)} tiến trình (máy chủ tỉnh và các nút).")
