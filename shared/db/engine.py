"""The database handle both roles use: short read and write transactions on SQLite or PostgreSQL."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Select, event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


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
            self.engine = _sqlite_engine(url, echo, "BEGIN IMMEDIATE", _WRITER_PRAGMAS)
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


async def asyncpg_of(conn: AsyncConnection) -> Any | None:
    """The asyncpg connection under `conn` on PostgreSQL (None on SQLite), inside `conn`'s transaction if any.

    For the hub's per-request statements: SQLAlchemy's execution layers were ~23 % of a hub worker's CPU in a
    burst of small rounds (py-spy), more than the statements themselves. SQLAlchemy begins a transaction at its
    first statement, so a raw statement that comes first must begin it, or it would run (and commit) on its own.
    """
    if conn.dialect.name != "postgresql":
        return None
    fairy = await conn.get_raw_connection()
    adapted: Any = fairy.dbapi_connection
    if conn.in_transaction() and adapted._transaction is None:
        await adapted._start_transaction()  # a no-op on an AUTOCOMMIT (read) connection
    return fairy.driver_connection


@functools.cache
def _pg_sql(stmt: ClauseElement) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    """The statement's SQL, its parameters' names in order, and the values it carries itself (its literals)."""
    compiled = cast(SQLCompiler, stmt.compile(dialect=_PG))
    return str(compiled), tuple(compiled.positiontup or ()), dict(compiled.params)


_PG = postgresql.asyncpg.dialect()  # type: ignore[no-untyped-call]


async def fetch(
    conn: AsyncConnection, stmt: Select[*tuple[Any, ...]], params: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    """All rows of a statement built once at import (its SQL is compiled once), straight through asyncpg on
    PostgreSQL; through SQLAlchemy on SQLite. Rows are read by position. Bound values must need no conversion
    by their column types (asyncpg takes UUIDs, datetimes and lists as they are)."""
    raw = await asyncpg_of(conn)
    if raw is None:
        rows = (await conn.execute(stmt, params)).all()
    else:
        sql, names, own = _pg_sql(stmt)
        rows = await raw.fetch(sql, *(params[n] if n in params else own[n] for n in names))
    return cast(Sequence[Sequence[Any]], rows)


_WRITER_PRAGMAS = ("PRAGMA cache_size=-32000", "PRAGMA wal_autocheckpoint=10000")
"""A writer's page cache of 32 MiB (SQLite's default is 2 MiB) and a checkpoint per 10,000 WAL pages (default
1,000): a bootstrap writes 100,000 grades in 20 transactions of 5,000 whose random ids touch index pages all over,
and with the defaults each transaction read them back and the checkpoints copied them again (~15 % of SQLite's
time, measured against one transaction of them all; with these, as fast as that one)."""


def _sqlite_engine(url: str, echo: bool, begin: str, pragmas: tuple[str, ...] = ()) -> AsyncEngine:
    engine = create_async_engine(url, echo=echo, pool_size=5, max_overflow=10, connect_args={"timeout": 30})

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event open transactions itself (pysqlite's own handling defers them).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        for pragma in pragmas:
            cur.execute(pragma)
        cur.close()

    def on_begin(conn: Any) -> None:
        if not conn.get_execution_options().get(_SINGLE):
            conn.exec_driver_sql(begin)

    event.listen(engine.sync_engine, "connect", on_connect)
    event.listen(engine.sync_engine, "begin", on_begin)
    return engine
