"""The child side of sync: one round is push, then pull; verify compares digests with the parent and repairs.

Every step is safe to cut at any point: cursors move only in the transaction that applied what they cover (pull)
or after the parent acknowledged (push), and apply is idempotent, so a retried step never applies twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, update

from shared.sync.child_base import Progress, RoundReport, _now, _State
from shared.sync.child_pull import Pulling
from shared.sync.child_push import Pushing
from shared.sync.tables import Upstream
from shared.sync.transport import SOFTWARE, Clients, SyncFailed, enrol

__all__ = ["SOFTWARE", "Child", "Clients", "Progress", "RoundReport", "SyncFailed", "enrol"]

_MARK = update(Upstream).where(Upstream.url == bindparam("_url"))
_SYNCED = _MARK.values(last_attempt=bindparam("started"), last_pull=bindparam("now"), last_error=None, failures=0)


class Child(Pushing, Pulling):
    """A node's sync with one of its upstreams (its parent, or the hub directly)."""

    async def round(self, *, verify: bool = False) -> RoundReport:
        """Push, then pull; the first round pulls first, since pushing needs the tree the pull brings."""
        report = RoundReport()
        started = _now()
        async with self._http() as http:
            try:
                state: _State | None
                async with self.db.read(single=True) as conn:
                    state = first = await self._state(conn)
                behind = None
                if state.path is None or state.parent_depth is None:
                    behind = await self._pull(http, report)
                    state = None
                repair = await self._push(http, report, state)
                behind = await self._pull(http, report, state) or behind
                if behind is not None:
                    await self._catch_up(http, report, behind)  # verifies
                elif verify or repair:
                    await self._verify(http, report)
            except SyncFailed as exc:
                await self._mark(last_attempt=started, last_error=exc.message_vi, failures=Upstream.failures + 1)
                raise
            except Exception:
                await self._mark(last_attempt=started)
                raise
            if self._quiet(first, report, started):
                return report
            # One write per round for the bookkeeping (a pull that brought nothing wrote nothing).
            async with self.db.write() as conn:
                await conn.execute(_SYNCED, {"_url": self.url, "started": started, "now": _now()})
        return report

    def _quiet(self, state: _State, report: RoundReport, started: datetime) -> bool:
        """A round that moved nothing, after a good one noted recently: it writes nothing at the node (issue 14).

        The times the sync page shows (last attempt, last pull) are then at most `note_quiet_rounds_seconds` old.
        """
        moved = report.pushed or report.pulled or report.repaired or report.purged or report.bumped or report.verified
        return (
            not moved
            and state.healthy
            and state.last_attempt is not None
            and (started - state.last_attempt).total_seconds() < self.settings.note_quiet_rounds_seconds
        )

    async def verify(self) -> RoundReport:
        report = RoundReport()
        async with self._http() as http:
            await self._push(http, report)
            await self._verify(http, report)
        return report

    async def _mark(self, **values: Any) -> None:
        async with self.db.write() as conn:
            await conn.execute(_MARK.values(**values), {"_url": self.url})
