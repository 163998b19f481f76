"""The demo's second half, its processes: a hub and district and base nodes as real processes on loopback, each
with its own folder and signed-in API client; enrolment down the tree, and sync up it (one base straight to the hub
while its district is down).

The steps here and in `server.demo_round` (what each office enters) and `server.demo_report` (the hub's
consolidated report, D20, D26) are `DemoStep`s appended to `server.demo.STEPS`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import httpx
from sqlalchemy import select

from shared.accounts.service import create_user, hash_password
from shared.catalogue import build_registry
from shared.commands import unit_by_code
from shared.db.engine import Database
from shared.domain.consolidation import Consolidation
from shared.domain.tree import UnitKind
from shared.sample_province import LEVEL_COMMUNE
from shared.settings import SyncSettings, sqlite_url
from shared.sync.parent import Parent
from shared.sync.tables import UnitRow

PASSWORD = "mat-khau-ban-demo"
"""The demo's accounts only: each instance has its own, made with `user-add`."""
NODES_DIR = "nodes"
START_SECONDS = 120.0
"""How long a process may take to answer /health; a busy two-core machine needs tens of seconds."""


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


def cluster_of(run: Any) -> Cluster:
    cluster: Cluster = run.extra["cluster"]
    return cluster


async def start_hub(run: Any) -> None:
    hub = Instance("TU", "Tỉnh ủy", run.data_dir, "server")
    run.extra["cluster"] = Cluster(hub)
    await hub.start()
    await hub.sign_in(run.tree.code_of(run.tree.roots[0]))
    run.console.print(f"Máy chủ tỉnh (SQLite trong {run.data_dir}) chạy tại {hub.url}; tài khoản vp-tu đã đăng nhập.")


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
    cluster = cluster_of(run)
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


async def sync_up(run: Any) -> None:
    cluster = cluster_of(run)
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


async def stop_cluster(run: Any) -> None:
    cluster = run.extra.get("cluster")
    if cluster is not None:
        await cluster.stop()
        run.console.print(f"Đã dừng {1 + len(cluster.nodes)} tiến trình (máy chủ tỉnh và các nút).")
