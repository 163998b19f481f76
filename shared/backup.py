"""Backup and restore of a hub's or a node's database: `nqsync server|node backup --to FILE`, `... restore FILE`.

A backup is one file: the line `NQSYNC-BACKUP 1`, one line of JSON (the header: engine, schema revision, the
instance's role, unit and feed epoch, when and by which software it was taken), then the payload as it is: a
`pg_dump -Fc` archive on PostgreSQL, an SQLite database file on SQLite. So `tail -n +3 FILE > db.dump` gives an
operator the plain archive for `pg_restore` (or the `.sqlite3` file) if nqsync itself is not at hand.

Both are consistent while the instance serves: `pg_dump` reads one snapshot, and SQLite's online backup API copies
one read snapshot (WAL) while writers go on. A restore refuses a database that already holds data unless forced,
refuses a backup of a newer schema than this software, brings the schema to head after loading, and starts a new
feed epoch (`shared.sync.restore`) so that children and parents converge with the restored instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url

from shared.db.engine import Database
from shared.db.migrate import alembic_config, upgrade
from shared.settings import Settings
from shared.sync.parent_base import SyncError
from shared.sync.restore import start_new_epoch
from shared.sync.transport import SOFTWARE

MAGIC = b"NQSYNC-BACKUP 1\n"
_BOOKKEEPING = {"alembic_version", "feed_counter"}
"""Tables a freshly created, empty database already has rows in (or that say nothing about data)."""
ROLE_VI = {"hub": "máy chủ tỉnh", "node": "nút"}


@dataclass(frozen=True)
class Header:
    """What a backup file says of itself (the JSON line after the magic line)."""

    engine: str
    revision: str
    role: str
    unit: str | None
    unit_code: str | None
    epoch: str
    head: int
    taken_at: str
    software: str


def _refuse(code: str, vi: str, en: str) -> SyncError:
    return SyncError(400, code, vi, en)


# Reading what a database holds (through SQLAlchemy, either engine)


def _describe(connection: Connection) -> dict[str, Any]:
    """Revision, identity, feed head and epoch of a database; empty values where it has none yet."""
    tables = set(inspect(connection).get_table_names())
    out: dict[str, Any] = {"revision": None, "role": None, "unit": None, "unit_code": None, "head": 0, "epoch": ""}
    if "alembic_version" in tables:
        out["revision"] = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if "identity" in tables:
        row = connection.execute(text("SELECT role, unit FROM identity WHERE id = 1")).first()
        if row is not None:
            out["role"], out["unit"] = row.role, _unit_text(row.unit)
    if "feed_counter" in tables:
        cols = {c["name"] for c in inspect(connection).get_columns("feed_counter")}
        row = connection.execute(
            text(f"SELECT last{', epoch' if 'epoch' in cols else ''} FROM feed_counter WHERE id = 1")
        ).first()
        if row is not None:
            out["head"], out["epoch"] = int(row[0]), (row[1] if len(row) > 1 else "") or ""
    if out["unit"] is not None and "units" in tables:
        out["unit_code"] = connection.execute(
            text("SELECT code FROM units WHERE id IN (:u, :v)"), _unit_params(connection, out["unit"])
        ).scalar()
    return out


def _unit_text(stored: Any) -> str | None:
    """A unit id read by raw SQL, as text: 16 bytes on SQLite, or 32 hex digits in a file from before migration
    d7b10b5e16a1, or PostgreSQL's uuid."""
    if stored is None:
        return None
    return str(uuid.UUID(bytes=bytes(stored)) if isinstance(stored, bytes | memoryview) else uuid.UUID(str(stored)))


def _unit_params(connection: Connection, unit: str) -> dict[str, Any]:
    """A unit id as the engine stores it: on SQLite 16 bytes, or 32 hex digits in a file from before
    migration d7b10b5e16a1 (a backup may be older than the software reading it)."""
    if connection.dialect.name != "sqlite":
        return {"u": unit, "v": unit}
    return {"u": uuid.UUID(unit).bytes, "v": unit.replace("-", "")}


def _holding(connection: Connection) -> list[str]:
    """Tables that hold data (beyond what a new empty database has): why a restore would overwrite something."""
    found = []
    for table in sorted(inspect(connection).get_table_names()):
        if table in _BOOKKEEPING:
            continue
        if connection.execute(text(f'SELECT 1 FROM "{table}" LIMIT 1')).first() is not None:
            found.append(table)
    if "feed_counter" in inspect(connection).get_table_names():
        last = connection.execute(text("SELECT last FROM feed_counter WHERE id = 1")).scalar()
        if last:
            found.append("feed_counter")
    return found


async def _inspect(url: str, fn: Any) -> Any:
    db = Database(url)
    try:
        async with db.write() as conn:
            return await conn.run_sync(fn)
    finally:
        await db.dispose()


# PostgreSQL through its own tools


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """The libpq URL of an asyncpg URL (without the password) and the environment that carries the password."""
    u = make_url(url)
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    query = dict(u.query)
    if "ssl" in query:  # asyncpg's name for libpq's sslmode
        query["sslmode"] = query.pop("ssl")
    plain = u.set(drivername="postgresql", password=None, query=query)
    return plain.render_as_string(hide_password=False), env


def pg_tool(name: str) -> str:
    """The path of `pg_dump`/`pg_restore`: from NQSYNC_PG_BINDIR if set, else from PATH."""
    bindir = os.environ.get("NQSYNC_PG_BINDIR")
    found = shutil.which(name, path=bindir) if bindir else shutil.which(name)
    if found is None:
        raise _refuse(
            "pg_tool_missing",
            f"Không tìm thấy chương trình {name} của PostgreSQL. Hãy cài gói postgresql-client đúng phiên bản "
            f"máy chủ cơ sở dữ liệu (Debian: apt-get install postgresql-client-<phiên bản>), hoặc đặt "
            f"NQSYNC_PG_BINDIR=/usr/lib/postgresql/<phiên bản>/bin.",
            f"{name} (PostgreSQL client tools) was not found; install postgresql-client matching the server's "
            f"major version, or set NQSYNC_PG_BINDIR.",
        )
    return found


def tool_major(tool: str) -> int:
    out = subprocess.run([tool, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"\)\s*(\d+)", out) or re.search(r"(\d+)", out)
    if match is None:
        raise _refuse("pg_tool_version", f"Không đọc được phiên bản của {tool}.", f"Cannot read {tool}'s version.")
    return int(match.group(1))


def _server_major(connection: Connection) -> int:
    return int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000


def _check_tool(tool: str, server_major: int) -> None:
    """pg_dump cannot dump a server newer than itself; say so before it fails half-way with its own words."""
    mine = tool_major(tool)
    if mine < server_major:
        raise _refuse(
            "pg_tool_too_old",
            f"{Path(tool).name} phiên bản {mine} cũ hơn máy chủ PostgreSQL (phiên bản {server_major}). Hãy cài "
            f"postgresql-client-{server_major} và chạy lại, hoặc đặt NQSYNC_PG_BINDIR trỏ tới thư mục bin "
            f"của phiên bản {server_major}.",
            f"{Path(tool).name} {mine} is older than the PostgreSQL server ({server_major}); install "
            f"postgresql-client-{server_major} or set NQSYNC_PG_BINDIR.",
        )


def _in_use(connection: Connection) -> int:
    return int(
        connection.execute(
            text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        ).scalar_one()
    )


def _drop_everything(connection: Connection) -> None:
    """Empty the current schema (a forced restore): pg_restore --clean would leave tables newer than the backup."""
    for (table,) in connection.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")):
        connection.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    for (seq,) in connection.execute(
        text("SELECT sequence_name FROM information_schema.sequences WHERE sequence_schema = current_schema()")
    ):
        connection.execute(text(f'DROP SEQUENCE IF EXISTS "{seq}" CASCADE'))
    for (typ,) in connection.execute(
        text(
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = current_schema() AND t.typtype = 'e'"
        )
    ):
        connection.execute(text(f'DROP TYPE IF EXISTS "{typ}" CASCADE'))


def _run(args: list[str], env: dict[str, str], **kwargs: Any) -> None:
    done = subprocess.run(args, env=env, stderr=subprocess.PIPE, **kwargs)
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip()[-2000:]
        raise _refuse(
            "pg_tool_failed",
            f"{Path(args[0]).name} không thành công (mã {done.returncode}):\n{said}",
            f"{Path(args[0]).name} failed with status {done.returncode}.",
        )


# The file


@contextlib.contextmanager
def _partial(target: Path) -> Iterator[Path]:
    """A file beside `target` renamed onto it only when complete, so a cut backup never looks like a good one."""
    tmp = target.with_name(f".{target.name}.partial")
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def _scratch(path: Path) -> Iterator[Path]:
    """A working SQLite file removed afterwards, with its journal files."""
    try:
        yield path
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def _inspect_sqlite(path: Path, fn: Any) -> Any:
    """`fn` over an SQLite file through plain pysqlite (no WAL switched on, nothing left beside the file)."""
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            return fn(connection)
    finally:
        engine.dispose()


def _write_header(out: Any, header: Header) -> None:
    out.write(MAGIC)
    out.write(json.dumps(asdict(header), ensure_ascii=False).encode() + b"\n")


def read_header(path: Path) -> tuple[Header, int]:
    """The header of a backup file and the offset its payload starts at."""
    try:
        with path.open("rb") as f:
            magic = f.readline()
            line = f.readline(1 << 16)
            offset = f.tell()
        if magic != MAGIC:
            raise ValueError("magic")
        header = Header(**json.loads(line))
    except (OSError, ValueError, TypeError) as exc:
        raise _refuse(
            "not_a_backup",
            f"Tệp {path} không phải là bản sao lưu của nqsync (hoặc đã bị hỏng).",
            f"{path} is not an nqsync backup, or is damaged ({exc}).",
        ) from None
    return header, offset


def _header(found: dict[str, Any], engine: str) -> Header:
    return Header(
        engine=engine,
        revision=found["revision"],
        role=found["role"],
        unit=found["unit"],
        unit_code=found["unit_code"],
        epoch=found["epoch"],
        head=found["head"],
        taken_at=datetime.now(UTC).isoformat(timespec="seconds"),
        software=SOFTWARE,
    )


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise _refuse("no_file", "Cơ sở dữ liệu trong bộ nhớ không sao lưu được.", "An in-memory database has no file.")
    return Path(database)


def _check_role(found: dict[str, Any], role: str) -> None:
    if found["role"] is None or found["revision"] is None:
        raise _refuse(
            "nothing_to_back_up",
            f"Cơ sở dữ liệu này chưa được khởi tạo cho {ROLE_VI[role]} nào; không có gì để sao lưu.",
            "This database has not been initialised; there is nothing to back up.",
        )
    if found["role"] != role:
        raise _refuse(
            "wrong_role",
            f"Cơ sở dữ liệu này là của một {ROLE_VI[found['role']]}, không phải {ROLE_VI[role]}.",
            f"This database belongs to a {found['role']}, not a {role}.",
        )


async def backup(settings: Settings, role: str, target: Path) -> tuple[Header, int]:
    """Write a consistent backup of this instance's database to `target` while it may be serving; its size."""
    url = settings.database.url
    if make_url(url).get_backend_name() == "sqlite":
        return await asyncio.to_thread(_backup_sqlite, _sqlite_path(url), role, target)
    dump = pg_tool("pg_dump")

    def look(connection: Connection) -> dict[str, Any]:
        return {**_describe(connection), "server_major": _server_major(connection)}

    found = await _inspect(url, look)
    _check_role(found, role)
    _check_tool(dump, found["server_major"])
    header = _header(found, "postgresql")
    return header, await asyncio.to_thread(_dump, dump, url, header, target)


def _backup_sqlite(path: Path, role: str, target: Path) -> tuple[Header, int]:
    target.parent.mkdir(parents=True, exist_ok=True)
    with _scratch(target.with_name(f".{target.name}.db")) as copy:
        source, dest = sqlite3.connect(path), sqlite3.connect(copy)
        try:
            source.backup(dest)  # one read snapshot (WAL): writers carry on meanwhile
            dest.execute("PRAGMA journal_mode=DELETE")  # the copy is one self-contained file
        finally:
            source.close()
            dest.close()
        found = _inspect_sqlite(copy, _describe)  # the snapshot's own identity, not the live database's
        _check_role(found, role)
        header = _header(found, "sqlite")
        with _partial(target) as tmp, tmp.open("wb") as out, copy.open("rb") as payload:
            _write_header(out, header)
            shutil.copyfileobj(payload, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
    return header, target.stat().st_size


def _dump(dump: str, url: str, header: Header, target: Path) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    dsn, env = libpq(url)
    with _partial(target) as tmp, tmp.open("wb") as out:
        _write_header(out, header)
        out.flush()
        _run([dump, "--format=custom", "--no-owner", "--no-privileges", f"--dbname={dsn}"], env, stdout=out)
        os.fsync(out.fileno())
    return target.stat().st_size


def _known_revision(revision: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except (CommandError, KeyError):
        return False


async def restore(settings: Settings, role: str, source: Path, *, force: bool = False) -> Header:
    """Load a backup into this instance's database, bring it to the current schema and start a new feed epoch."""
    header, offset = read_header(source)
    url = settings.database.url
    engine = make_url(url).get_backend_name()
    if header.role != role:
        raise _refuse(
            "wrong_role",
            f"Bản sao lưu này là của một {ROLE_VI.get(header.role, header.role)}, không phải {ROLE_VI[role]}; "
            f"hãy dùng lệnh nqsync {'server' if header.role == 'hub' else 'node'} restore.",
            f"This backup is of a {header.role}, not a {role}.",
        )
    if header.engine != engine:
        raise _refuse(
            "wrong_engine",
            f"Bản sao lưu được tạo từ {header.engine}, còn cơ sở dữ liệu đích là {engine}; không khôi phục chéo "
            "giữa hai loại cơ sở dữ liệu được.",
            f"The backup is of {header.engine}; the target database is {engine}.",
        )
    if not _known_revision(header.revision):
        raise _refuse(
            "newer_schema",
            f"Bản sao lưu có lược đồ dữ liệu {header.revision}, mới hơn phiên bản nqsync đang cài ({SOFTWARE}). "
            "Hãy nâng cấp nqsync lên phiên bản đã tạo bản sao lưu rồi khôi phục lại.",
            f"The backup's schema revision {header.revision} is newer than this software; upgrade nqsync first.",
        )
    if engine == "sqlite":
        path = _sqlite_path(url)
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
    else:
        pg_tool("pg_restore")

    def check(connection: Connection) -> list[str]:
        if connection.dialect.name == "postgresql" and (others := _in_use(connection)):
            raise _refuse(
                "database_in_use",
                f"Cơ sở dữ liệu đích đang có {others} kết nối khác (nqsync đang chạy?). Hãy dừng các dịch vụ "
                "nqsync (máy chủ, tiến trình nền) rồi khôi phục lại.",
                f"The target database has {others} other connections; stop the nqsync services first.",
            )
        return _holding(connection)

    holding = await _inspect(url, check)
    if holding and not force:
        shown = ", ".join(holding[:6]) + (", …" if len(holding) > 6 else "")
        raise _refuse(
            "target_not_empty",
            f"Cơ sở dữ liệu đích đã có dữ liệu (bảng {shown}); không khôi phục đè lên. Nếu chắc chắn muốn thay "
            "toàn bộ dữ liệu hiện có bằng bản sao lưu, hãy sao lưu dữ liệu hiện có trước (lệnh backup --to), "
            "dừng dịch vụ nqsync, rồi chạy lại lệnh khôi phục với --force.",
            f"The target database already holds data ({shown}); nothing was changed. Re-run with --force to "
            "replace it.",
        )
    if engine == "sqlite":
        await asyncio.to_thread(_load_sqlite, source, offset, path)
    else:
        if holding:
            await _inspect(url, _drop_everything)
        await asyncio.to_thread(_pg_restore, source, offset, url)
    db = Database(url)
    try:
        await upgrade(db)
        async with db.write() as conn:
            await start_new_epoch(conn)
    finally:
        await db.dispose()
    return header


def _pg_restore(source: Path, offset: int, url: str) -> None:
    dsn, env = libpq(url)
    tool = pg_tool("pg_restore")
    with source.open("rb") as payload:
        payload.seek(offset)  # pg_restore reads the archive from its standard input, after the header
        args = [tool, "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error", f"--dbname={dsn}"]
        _run(args, env, stdin=payload)


def _load_sqlite(source: Path, offset: int, path: Path) -> None:
    """Copy the payload out, check it, then write it into the target through SQLite (its WAL is kept right)."""
    with _scratch(path.with_name(f".{path.name}.restoring")) as tmp:
        with source.open("rb") as f, tmp.open("wb") as out:
            f.seek(offset)
            shutil.copyfileobj(f, out, 1 << 20)
        loaded = sqlite3.connect(tmp)
        try:
            ok = loaded.execute("PRAGMA quick_check").fetchone()
        except sqlite3.DatabaseError:
            ok = None
        try:
            if not ok or ok[0] != "ok":
                raise _refuse(
                    "damaged_backup",
                    "Dữ liệu trong tệp sao lưu bị hỏng; không có gì được thay đổi.",
                    "The backup's data is damaged; nothing was changed.",
                )
            target = sqlite3.connect(path)
            try:
                loaded.backup(target)
            finally:
                target.close()
        finally:
            loaded.close()
