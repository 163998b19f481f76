"""What a restore from a backup changes in the engine's bookkeeping, so that parent and children converge again.

A restored database went back in time: its feed's seqs restart below what its children have pulled, and what it
pushed to its own parent since the backup is lost here. So, in the restore's transaction:
- the feed starts a new **epoch** (part of every scope token): every child's pull cursor, earned in the old feed,
  is answered `rescope`; the child verifies by digest, the restored parent gets back what the child's subtree
  owns and the child takes what only the parent has (docs/sync-protocol.md, "Restore");
- with each of its own upstreams, the push cursor moves to the head (rows of the backup are not blindly sent
  again: their owner's newer edits may be at the parent) and the scope token is forgotten, so the next pull
  verifies and the repair decides record by record, by rev.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.sync.tables import FeedCounter, Upstream


async def start_new_epoch(conn: AsyncConnection) -> str:
    """Give the restored feed a new epoch and make every upstream verify before trusting its cursors."""
    epoch = secrets.token_hex(8)
    head = (await conn.execute(select(FeedCounter.last).where(FeedCounter.id == 1))).scalar_one()
    await conn.execute(update(FeedCounter).where(FeedCounter.id == 1).values(epoch=epoch))
    await conn.execute(update(Upstream).values(push_cursor=head, scope=""))
    return epoch
