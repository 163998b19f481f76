"""The database handle both roles use: short read and write transactions on SQLite or PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


class Database:
    """Read and write transactions.

    On SQLite a write transaction begins IMMEDIATE (takes the write lock up front, so it waits for another writer
    instead of failing half-way with "database is locked"); reads begin deferred and never block a writer (WAL).
    """

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = url
        self.sqlite = is_sqlite(url)
        if self.sqlite:
            database = make_url(url).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = _sqlite_engine(url, echo, "BEGIN IMMEDIATE")
            self._reader = _sqlite_engine(url, echo, "BEGIN")
            # One statement is its own snapshot: its BEGIN would be three more aiosqlite thread hops.
            self._single = self._reader.execution_options(**{_SINGLE: True})
        else:
            # No pre-ping: on asyncpg it costs three round trips (BEGIN, ping, ROLLBACK) per checkout, which was
            # most of a no-op pull. A connection the server dropped fails one request, SQLAlchemy then invalidates
            # the pool's older connections, and the node retries on its next round.
            self.engine = create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=pool_size)
            # Reads need no transaction on PostgreSQL (each statement sees a committed snapshot under READ
            # COMMITTED either way): autocommit saves the BEGIN and ROLLBACK round trips around every read.
            self._reader = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            self._single = self._reader

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction that commits when the block ends without an exception."""
        async with self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def read(self, *, single: bool = False) -> AsyncIterator[AsyncConnection]:
        """A read; statements in one block see one snapshot, unless `single` says the block runs only one."""
        async with (self._single if single else self._reader).connect() as conn:
            yield conn

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.sqlite:
            await self._reader.dispose()


_SINGLE = "nqsync_single_statement"


def _sqlite_engine(url: str, echo: bool, begin: str) -> AsyncEngine:
    engine = create_async_engine(url, echo=echo, pool_size=5, max_overflow=10, connect_args={"timeout": 30})

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event open transactions itself (pysqlite's own handling defers them).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    def on_begin(conn: Any) -> None:
        if not conn.get_execution_options().get(_SINGLE):
            conn.exec_driver_sql(begin)

    event.listen(engine.sync_engine, "connect", on_connect)
    event.listen(engine.sync_engine, "begin", on_begin)
    return engine
