"""A hub and nodes with real databases and real HTTP on loopback, for sync tests.

Servers run in the test's process (uvicorn on an ephemeral port); `serving` runs a real `nqsync ... serve` process
for the tests that need one (security, browser, CLI and deploy tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO

import httpx
import uvicorn
from sqlalchemy import insert, select

from shared.app import create_app
from shared.catalogue import build_registry
from shared.db.engine import Database
from shared.db.migrate import upgrade
from shared.documents.records import DOCUMENT, DocumentRecord
from shared.domain.grades import band_of
from shared.domain.tree import Unit, UnitKind, Version
from shared.essays.records import ESSAY_GRADE, EssayGradeRecord
from shared.ids import new_id
from shared.members.records import MEMBER, MemberRecord
from shared.settings import DatabaseSettings, Settings, SyncSettings, sqlite_url
from shared.sync import store
from shared.sync.agent import sync_once
from shared.sync.client import RoundReport, enrol
from shared.sync.parent import Parent
from shared.sync.registry import Record, RecordType
from shared.sync.tables import Identity, Upstream
from shared.units.records import store_units

NQSYNC = str(Path(sys.executable).with_name("nqsync"))
DAY = date(2024, 1, 1)
TREE = {"TU": None, "H1": "TU", "H2": "TU", "H1B1": "H1", "H1B2": "H1", "H2B1": "H2", "H2B2": "H2"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without the test run's NQSYNC_* settings (a served process gets only what a test gives it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NQSYNC_")}
    env.update(extra)
    return env


@dataclass
class Served:
    """A running `nqsync ... serve` process and where it answers."""

    url: str
    port: int
    proc: subprocess.Popen[bytes]
    _log: IO[bytes]

    def output(self) -> str:
        """What the process has written to stdout and stderr so far."""
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode("utf-8", errors="replace")


@contextlib.contextmanager
def serving(
    *args: str,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    exe: str = NQSYNC,
    cwd: Path | None = None,
    timeout: float = 60,
) -> Iterator[Served]:
    """Run `nqsync <args> --port P` on a free loopback port until /health answers; terminate and reap it on exit.

    `env` defaults to `clean_env()`; the output goes to `log` if given, else to an anonymous temporary file, and is
    quoted when the process exits before it is healthy or takes longer than `timeout` seconds.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("w+b") if log else tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            [exe, *args, "--port", str(port)],
            env=clean_env() if env is None else dict(env),
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        served = Served(url, port, proc, out)
        try:
            _wait_healthy(served, " ".join(args[:2]), timeout)
            yield served
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_healthy(served: Served, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{served.url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        code = served.proc.poll()
        if code is not None:
            raise AssertionError(f"`nqsync {what}` exited with {code} before answering /health:\n{served.output()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"`nqsync {what}` did not answer /health in {timeout:.0f} s:\n{served.output()}")
        time.sleep(0.1)


def tree_units() -> dict[str, Unit]:
    ids = {code: new_id() for code in TREE}
    kinds = {0: UnitKind.COMMITTEE, 1: UnitKind.COMMITTEE, 2: UnitKind.BASE_ORGANISATION}
    out = {}
    for code, parent in TREE.items():
        depth = 0 if parent is None else (1 if TREE[parent] is None else 2)
        version = Version(DAY, code, f"Đơn vị {code}", ids[parent] if parent else None, f"cấp {depth}", kinds[depth])
        out[code] = Unit(id=ids[code], armed_forces=False, valid_from=DAY, valid_to=None, versions=(version,))
    return out


@dataclass
class Instance:
    name: str
    db: Database
    unit: uuid.UUID
    settings: Settings
    url: str | None = None
    server: uvicorn.Server | None = None
    task: asyncio.Task[None] | None = None
    upstreams: list[str] = field(default_factory=list)

    @property
    def parent_service(self) -> Parent:
        return Parent(self.db, build_registry(), self.settings.sync)


class Cluster:
    """Builds a hub and nodes for one test and tears them down."""

    def __init__(self, tmp: Path, make_url: Callable[[str], Awaitable[str]], sync: SyncSettings | None = None) -> None:
        self.tmp = tmp
        self.make_url = make_url
        self.sync_settings = sync or SyncSettings(cache_seconds=0)
        self.units = tree_units()
        self.instances: dict[str, Instance] = {}
        self.registry = build_registry()

    def settings(self, name: str, url: str) -> Settings:
        return Settings(data_dir=self.tmp / name, database=DatabaseSettings(url=url), sync=self.sync_settings)

    async def hub(self, backend: str = "postgresql", *, serve: bool = True) -> Instance:
        url = await self.make_url(backend)
        db = Database(url)
        async with db.write() as conn:
            await store_units(conn, list(self.units.values()))
            await conn.execute(insert(Identity).values(id=1, role="hub", unit=None, created_at=_now()))
        hub = Instance("TU", db, self.units["TU"].id, self.settings("TU", url))
        self.instances["TU"] = hub
        if serve:
            await self.serve(hub)
        return hub

    async def node(self, code: str, parent: Instance, *, serve: bool = True, first_sync: bool = True) -> Instance:
        path = self.tmp / code / "node.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        db = Database(sqlite_url(path))
        await upgrade(db)
        inst = Instance(code, db, self.units[code].id, self.settings(code, sqlite_url(path)))
        self.instances[code] = inst
        async with db.write() as conn:
            await conn.execute(insert(Identity).values(id=1, role="node", unit=inst.unit, created_at=_now()))
        await self.enrol(inst, parent)
        if first_sync:
            await self.sync(inst)
        if serve:
            await self.serve(inst)
        return inst

    async def enrol(self, inst: Instance, parent: Instance, *, priority: int | None = None) -> None:
        assert parent.url, "the parent must be serving"
        code = await parent.parent_service.issue_code(inst.unit)
        reply = await enrol(parent.url, code, inst.name)
        async with inst.db.write() as conn:
            await conn.execute(
                insert(Upstream).values(
                    url=parent.url,
                    priority=len(inst.upstreams) if priority is None else priority,
                    credential=reply.credential,
                    parent_unit=reply.parent_unit,
                    pull_cursor=0,
                    push_cursor=0,
                    scope="",
                    failures=0,
                )
            )
        inst.upstreams.append(parent.url)

    async def serve(self, inst: Instance) -> None:
        port = int(inst.url.rsplit(":", 1)[1]) if inst.url else free_port()  # a restart keeps its address
        app = create_app(inst.settings, role="hub" if inst.name == "TU" else "node")
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", lifespan="on"))
        inst.task = asyncio.create_task(server.serve())
        inst.server = server
        inst.url = f"http://127.0.0.1:{port}"
        for _ in range(500):
            if server.started:
                return
            await asyncio.sleep(0.01)
        raise RuntimeError(f"{inst.name} did not start")

    async def stop_serving(self, inst: Instance) -> None:
        if inst.server is not None and inst.task is not None:
            inst.server.should_exit = True
            await inst.task
            inst.server = inst.task = None

    async def sync(self, inst: Instance, *, via: Instance | None = None, verify: bool = False) -> RoundReport:
        _, report = await sync_once(
            inst.db, self.registry, self.sync_settings, via=via.url if via else None, verify=verify
        )
        return report

    async def close(self) -> None:
        for inst in self.instances.values():
            with contextlib.suppress(Exception):
                await self.stop_serving(inst)
            await inst.db.dispose()

    # Writing records as a unit's own node would.

    async def write(self, inst: Instance, rt: RecordType, records: Sequence[Record]) -> None:
        async with inst.db.write() as conn:
            await store.apply(conn, rt, records, origin=None)

    def document(self, owner: str, number: str = "15-NQ/TU", rev: int = 1) -> DocumentRecord:
        unit = self.units[owner].id
        return DocumentRecord(
            id=new_id(),
            owner=unit,
            audience=unit,
            rev=rev,
            deleted=False,
            number=number,
            title="Về học tập, quán triệt",
            signed_on=DAY,
            issuer="Tỉnh ủy",
            lead_agency="Ban Tuyên giáo",
            applies_to=[],
        )

    def member(self, owner: str, name: str = "Nguyễn Văn A") -> MemberRecord:
        return MemberRecord(
            id=new_id(),
            owner=self.units[owner].id,
            audience=None,
            rev=1,
            deleted=False,
            full_name=name,
            birth_year=1980,
            obligation="obliged",
        )

    def grade(self, owner: str, member: uuid.UUID, document: uuid.UUID, score: str = "8.5") -> EssayGradeRecord:
        value = Decimal(score)
        return EssayGradeRecord(
            id=new_id(),
            owner=self.units[owner].id,
            audience=None,
            rev=1,
            deleted=False,
            member=member,
            member_unit=self.units[owner].id,
            document=document,
            attempt=1,
            score=value,
            band=str(band_of(value)),
            graded_on=DAY,
            obligation="obliged",
        )

    async def ids(self, inst: Instance, rt: RecordType) -> set[uuid.UUID]:
        async with inst.db.read() as conn:
            return set((await conn.execute(select(rt.table.c.id))).scalars())

    async def held(self, inst: Instance, rt: RecordType) -> dict[uuid.UUID, int]:
        async with inst.db.read() as conn:
            return {r.id: r.rev for r in await conn.execute(select(rt.table.c.id, rt.table.c.rev))}


def _now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)


__all__ = ["DOCUMENT", "ESSAY_GRADE", "MEMBER", "Cluster", "Instance"]
