"""CPU seconds a run cost, per process group, read from /proc: a figure a loaded machine does not distort as much
as wall time (other sessions' work takes the cores, not our processes' CPU seconds)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _ticks(pid: int) -> int | None:
    """utime + stime of one process, in clock ticks (None once it has gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])


def parent_pid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def _title(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@dataclass
class CpuMeter:
    """CPU seconds of the hub's processes (`hub_pid` and its children), the PostgreSQL backends serving
    `database` (children of `postmaster` whose title names it; new ones counted from 0, as forked) and this process.

    Sampled every `every` seconds while a run lasts, so a backend that closes mid-run (a pool overflow connection)
    loses at most one interval. PostgreSQL's shared background processes (WAL writer, checkpointer) are not counted.
    """

    hub_pid: int | None
    postmaster: int | None
    database: str
    every: float = 0.25
    _base: dict[int, int] = field(default_factory=dict)
    _last: dict[int, tuple[str, int]] = field(default_factory=dict)
    backends: int = 0
    """PostgreSQL backends seen during the last run (more than the pool holds: connections opened and closed)."""

    def _pids(self) -> list[tuple[str, int]]:
        out: list[tuple[str, int]] = []
        if self.hub_pid is not None:
            out += [("hub", p) for p in [self.hub_pid, *_children(self.hub_pid)]]
        if self.postmaster is not None:
            marker = f" {self.database} "
            out += [("postgres", p) for p in _children(self.postmaster) if marker in _title(p)]
        return out

    def _sample(self, *, first: bool = False) -> None:
        for group, pid in self._pids():
            ticks = _ticks(pid)
            if ticks is None:
                continue
            if pid not in self._base:
                self._base[pid] = ticks if first else 0
            self._last[pid] = (group, ticks)

    @contextlib.asynccontextmanager
    async def measure(self) -> AsyncIterator[dict[str, float]]:
        """CPU seconds by group ("hub", "postgres", "generator") over the block, filled in when it ends."""
        self._base.clear()
        self._last.clear()
        out: dict[str, float] = {}
        own = time.process_time()
        self._sample(first=True)

        async def sampler() -> None:
            while True:
                await asyncio.sleep(self.every)
                self._sample()

        task = asyncio.create_task(sampler())
        try:
            yield out
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self._sample()
            out["generator"] = time.process_time() - own
            for group in ("hub", "postgres"):
                out[group] = sum(t - self._base[p] for p, (g, t) in self._last.items() if g == group) / _TICK
            self.backends = sum(1 for g, _ in self._last.values() if g == "postgres")
