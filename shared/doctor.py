"""`nqsync server check` and `nqsync node check`: an operator's doctor, one line per check, in Vietnamese.

Each check reads and never writes: the database is not upgraded (unlike every other command), Redis is only pinged.
A line says OK, CẢNH BÁO (warning: act soon) or LỖI (error: the service cannot work as it should); any LỖI makes the
command exit 1, so a monitoring script can run it.
"""

from __future__ import annotations

import base64
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import click
from sqlalchemy import text
from sqlalchemy.engine import make_url

from shared.catalogue import build_registry
from shared.cli import data_option
from shared.commands import run_async, settings_for, when
from shared.db.engine import Database
from shared.db.migrate import alembic_config, head_revision
from shared.domain.formatting import format_date, format_decimal
from shared.settings import Settings
from shared.sync.parent import Parent

OK, WARN, ERROR = "OK", "CẢNH BÁO", "LỖI"
CERT_DAYS = 30
"""A certificate expiring within this many days is a warning: time to ask the province's CA for a new one."""


@dataclass(frozen=True, slots=True)
class Finding:
    status: str
    label: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<9} {self.label}: {self.detail}"


async def check_database(settings: Settings, command: str) -> tuple[Finding, Database | None]:
    """Whether the schema is at this version's newest revision; the open database when it is (for later checks)."""
    label = "Cơ sở dữ liệu"
    url = make_url(settings.database.url)
    # Connecting to a missing SQLite file would create it: the doctor writes nothing.
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():  # noqa: ASYNC240
        return Finding(ERROR, label, f"chưa có tệp {url.database}; chạy `{command}`"), None
    db = Database(settings.database.url)
    try:
        async with db.read() as conn:
            try:
                current = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            except Exception:  # no version table: an empty database
                current = None
    except Exception as exc:
        await db.dispose()
        return Finding(ERROR, label, f"không kết nối được ({type(exc).__name__}: {exc})"), None
    head = head_revision()
    if current == head:
        return Finding(OK, label, f"lược đồ mới nhất ({head})"), db
    await db.dispose()
    if current is None:
        return Finding(ERROR, label, f"chưa khởi tạo; chạy `{command}`"), None
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    if current not in {rev.revision for rev in script.walk_revisions()}:
        return Finding(
            ERROR, label, f"lược đồ {current} mới hơn bản nqsync đã cài; cài lại bản nqsync mới hơn đã dùng nó"
        ), None
    behind = len(list(script.iterate_revisions("head", current)))
    return Finding(
        ERROR,
        label,
        f"chưa nâng cấp: chậm {behind} bản nâng cấp (lược đồ {current}, mới nhất {head}); chạy `{command}`",
    ), None


async def check_redis(url: str | None) -> Finding:
    label = "Redis (hàng đợi việc nền)"
    if not url:
        return Finding(OK, label, "không dùng: việc nền chạy ngay trong tiến trình máy chủ")
    from redis.asyncio import Redis  # the hub's extra (arq); never imported by a node

    client = Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        await client.ping()
    except Exception as exc:
        return Finding(ERROR, label, f"không trả lời tại {_redact(url)} ({type(exc).__name__}: {exc})")
    finally:
        await client.aclose()
    return Finding(OK, label, f"trả lời tại {_redact(url)}")


def check_disk(folder: Path, min_free_gb: float) -> Finding:
    label = "Dung lượng đĩa"
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent  # the data folder may not exist yet: the disk it will be on
    free = shutil.disk_usage(probe).free / 1e9
    said = f"còn trống {format_decimal(Decimal(f'{free:.1f}'), 1)} GB tại {folder}"
    if free < min_free_gb:
        return Finding(WARN, label, f"{said}, dưới ngưỡng {format_decimal(Decimal(str(min_free_gb)), trim=True)} GB")
    return Finding(OK, label, said)


_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----(.+?)-----END CERTIFICATE-----", re.S)


def _tlv(der: bytes, at: int) -> tuple[int, int, int]:
    """One DER element at `at`: its tag, where its content starts and where it ends."""
    tag, length, start = der[at], der[at + 1], at + 2
    if length & 0x80:
        size = length & 0x7F
        length, start = int.from_bytes(der[start : start + size], "big"), start + size
    return tag, start, start + length


def not_after(der: bytes) -> datetime:
    """The end of validity of one X.509 certificate (RFC 5280: tbsCertificate → validity → notAfter)."""
    _, tbs, _ = _tlv(der, 0)
    _, tbs, _ = _tlv(der, tbs)
    tag, _, end = _tlv(der, tbs)
    at = end if tag == 0xA0 else tbs  # the optional explicit version
    for _ in range(3):  # serial number, signature algorithm, issuer
        at = _tlv(der, at)[2]
    _, validity, _ = _tlv(der, at)
    tag, start, end = _tlv(der, _tlv(der, validity)[2])
    stamp = der[start:end].decode("ascii").rstrip("Z")
    moment = datetime.strptime(stamp, "%y%m%d%H%M%S" if tag == 0x17 else "%Y%m%d%H%M%S")
    return moment.replace(tzinfo=UTC)


def check_certificate(path: Path, now: datetime) -> Finding:
    """The certificate in `path` that expires first (a bundle or a chain holds several)."""
    label = f"Chứng chỉ {path}"
    try:
        blocks = _PEM.findall(path.read_bytes())
        ends = [not_after(base64.b64decode(b"".join(block.split()))) for block in blocks]
    except OSError as exc:
        return Finding(ERROR, label, f"không đọc được tệp ({exc.strerror})")
    except (ValueError, IndexError):
        return Finding(ERROR, label, "tệp không phải chứng chỉ PEM đọc được")
    if not ends:
        return Finding(ERROR, label, "tệp không chứa chứng chỉ PEM nào")
    first = min(ends)
    day = format_date(first.date())
    if first <= now:
        return Finding(ERROR, label, f"đã hết hạn ngày {day}; xin cấp chứng chỉ mới")
    if first - now < timedelta(days=CERT_DAYS):
        days = (first - now).days
        return Finding(WARN, label, f"hết hạn ngày {day} (còn {days} ngày); xin cấp chứng chỉ mới")
    return Finding(OK, label, f"còn hạn đến {day}")


async def check_children(db: Database, settings: Settings, stale_hours: float, now: datetime) -> Finding:
    """Children behind the feed (their acknowledged pull cursor below its head) and not heard from lately.

    A child up to date (behind by 0) is fine however long ago it was seen: a parent does not record a pull that
    brought nothing, and a child with nothing to fetch has nothing to miss.
    """
    label = "Nút cấp dưới"
    rows = [n for n in await Parent(db, build_registry(), settings.sync).nodes() if not n["revoked"]]
    if not rows:
        return Finding(OK, label, "chưa có nút nào đăng ký")
    cutoff = now - timedelta(hours=stale_hours)
    late = [n for n in rows if n["behind_by"] > 0 and (n["last_contact"] is None or _utc(n["last_contact"]) < cutoff)]
    behind = sum(1 for n in rows if n["behind_by"] > 0)
    said = f"{len(rows)} nút, {behind} nút đang chậm so với sổ ghi"
    if not late:
        return Finding(OK, label, said)
    names = "; ".join(
        f"{n['unit_code']} (liên lạc gần nhất: {when(n['last_contact'])}, chậm {n['behind_by']} thay đổi)"
        for n in late[:10]
    )
    more = f" và {len(late) - 10} nút khác" if len(late) > 10 else ""
    hours = format_decimal(Decimal(str(stale_hours)), trim=True)
    return Finding(WARN, label, f"{said}; {len(late)} nút chậm và không liên lạc quá {hours} giờ: {names}{more}")


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands instants back naive


def _redact(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def run_checks(
    settings: Settings, role: str, *, certs: Sequence[Path], min_free_gb: float, stale_hours: float
) -> list[Finding]:
    now = datetime.now(UTC)
    command = "nqsync server init" if role == "hub" else "nqsync node sync"
    database, db = await check_database(settings, command)
    found = [database]
    try:
        if role == "hub":
            found.append(await check_redis(settings.redis.url))
        found.append(check_disk(settings.data_dir, min_free_gb))
        named = [Path(settings.sync.ca_bundle)] if settings.sync.ca_bundle else []
        named += [p for p in certs if p not in named]
        found += [check_certificate(p, now) for p in named]
        if not named:
            found.append(Finding(OK, "Chứng chỉ", "không có tệp chứng chỉ nào trong cấu hình"))
        if db is None:
            found.append(Finding(WARN, "Nút cấp dưới", "chưa kiểm tra được: cơ sở dữ liệu chưa sẵn sàng"))
        else:
            found.append(await check_children(db, settings, stale_hours, now))
    finally:
        if db is not None:
            await db.dispose()
    return found


def check_command(group: click.Group, role: str) -> None:
    """Add `check` to `nqsync server` (role "hub") or `nqsync node` (role "node")."""

    @group.command("check")
    @data_option
    @click.option(
        "--cert",
        "certs",
        multiple=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="Another certificate file to check (e.g. nginx's), repeatable; the settings' CA bundle is always checked.",
    )
    @click.option("--min-free-gb", default=2.0, show_default=True, help="Warn when the data folder's disk has less.")
    @click.option("--stale-hours", default=24.0, show_default=True, help="Warn of a child behind and silent this long.")
    @click.option("--database-url", envvar="NQSYNC_DATABASE_URL", hidden=role != "hub", help="Database URL.")
    @click.option("--redis-url", envvar="NQSYNC_REDIS_URL", hidden=role != "hub", help="redis://… (the hub's queue).")
    @run_async
    async def check(
        data_dir: str,
        certs: tuple[Path, ...],
        min_free_gb: float,
        stale_hours: float,
        database_url: str | None,
        redis_url: str | None,
    ) -> None:
        """Check the database schema, Redis, disk space, certificates and children; exits 1 on any LỖI."""
        overrides = {"redis.url": redis_url} if role == "hub" else {}
        settings = settings_for(data_dir, database_url if role == "hub" else None, **overrides)
        found = await run_checks(settings, role, certs=certs, min_free_gb=min_free_gb, stale_hours=stale_hours)
        for finding in found:
            click.echo(finding.line())
        errors = sum(f.status == ERROR for f in found)
        warnings = sum(f.status == WARN for f in found)
        click.echo(f"Kết quả: {errors} lỗi, {warnings} cảnh báo.")
        if errors:
            raise SystemExit(1)
