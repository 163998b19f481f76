"""What every benchmark shares: its result row, the run's configuration, and a node's sync client.

Only the step a benchmark names is timed; building trees, records and databases is not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import env
from shared.catalogue import build_registry
from shared.db.engine import Database
from shared.settings import SyncSettings
from shared.sync.agent import upstreams
from shared.sync.client import Child, Clients


@dataclass
class Result:
    name: str
    figure: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    met: bool | None = None
    note: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class Config:
    quick: bool
    repeat: int
    tmp: Path
    dbs: env.Databases
    template: env.SqliteTemplate
    push_rows: int = 100_000
    bootstrap_rows: int = 100_000
    noop_rounds: int = 300
    burst_nodes: int = 3000
    burst_window: float = 10.0
    burst_workers: int = 2
    burst_sweep: bool = True
    log: Callable[[str], None] = print


SETTINGS = SyncSettings()
REGISTRY = build_registry()


async def sync_child(db: Database, clients: Clients | None = None) -> Child:
    """The node's sync client towards its first upstream, as `nqsync node sync` builds it."""
    up = (await upstreams(db))[0]
    return Child(db, REGISTRY, SETTINGS, up, clients=clients)
