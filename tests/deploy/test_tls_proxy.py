"""The shipped nginx configuration, run by Debian's nginx in front of a real hub, with a CA made for the test.

nginx gets deploy/nginx/nqsync.conf itself (its include inlined, ports and paths swapped for the test's), so what
an office installs is what is tested. Nodes are the real `nqsync node` commands, as an office runs them.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

NGINX = Path("/usr/sbin/nginx")
if not NGINX.exists():
    pytest.skip(
        f"{NGINX} is missing: install Debian's nginx-light package (scripts/test does it when run as root)",
        allow_module_level=True,
    )

import trustme  # noqa: E402

from shared.db.engine import Database  # noqa: E402
from shared.documents.records import DOCUMENT, DocumentRecord  # noqa: E402
from shared.ids import new_id  # noqa: E402
from shared.settings import HttpSettings, sqlite_url  # noqa: E402
from shared.sync import store  # noqa: E402
from shared.sync.protocol import MEDIA_TYPE, PROTOCOL, PROTOCOL_HEADER, EnrolRequest, pack  # noqa: E402
from shared.sync.tables import Identity, Upstream  # noqa: E402
from tests.harness import NQSYNC, clean_env, free_port, serving  # noqa: E402

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "nginx"
UNITS_CSV = """ma,ten,ma_cap_tren,cap,loai
TU,Tỉnh ủy Mẫu,,Tỉnh,Cấp ủy
H1,Huyện ủy Mẫu Một,TU,Huyện,Cấp ủy
H2,Huyện ủy Mẫu Hai,TU,Huyện,Cấp ủy
H3,Huyện ủy Mẫu Ba,TU,Huyện,Cấp ủy
"""
UNTRUSTED = "không tin cậy chứng chỉ"


@dataclass
class Proxy:
    url: str
    http_url: str
    ca: Path
    other_ca: Path
    hub_data: Path
    root: Path


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert proc.poll() is None, f"exited early: {log.read_text()}"
            assert time.monotonic() < deadline, f"nothing listened on {port} in 30 s: {log.read_text()}"
            time.sleep(0.1)


def _env(**extra: str) -> dict[str, str]:
    return clean_env(COLUMNS="1000", **extra)  # `node status` prints its table unwrapped


def nqsync(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NQSYNC, *args], capture_output=True, text=True, timeout=120, env=_env(**env))


def _ok(*args: str) -> str:
    done = nqsync(*args)
    assert done.returncode == 0, f"nqsync {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _swap(text: str, old: str, new: str) -> str:
    """Replace, insisting the shipped file still says `old` (so a changed config cannot go untested)."""
    assert old in text, f"deploy/nginx no longer contains {old!r}: update the test's rendering"
    return text.replace(old, new)


def render(site: str, root: Path, *, https_port: int, http_port: int, app_port: int, cert: Path, key: Path) -> Path:
    """The shipped site file as nginx's whole configuration, on the test's ports, certificate and folders."""
    text = (DEPLOY / site).read_text()
    text = _swap(text, "include snippets/nqsync-common.conf;", (DEPLOY / "nqsync-common.conf").read_text())
    text = _swap(text, "listen [::]:80;\n", "")  # loopback IPv4 only: this machine may have no IPv6
    text = _swap(text, "listen [::]:443 ssl;\n", "")
    text = _swap(text, "listen 80;", f"listen 127.0.0.1:{http_port};")
    text = _swap(text, "listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
    text = re.sub(r"server 127\.0\.0\.1:8[01]00;", f"server 127.0.0.1:{app_port};", text)
    text = re.sub(r"ssl_certificate /etc/nginx/tls/\S+;", f"ssl_certificate {cert};", text)
    text = re.sub(r"ssl_certificate_key /etc/nginx/tls/\S+;", f"ssl_certificate_key {key};", text)
    text = _swap(text, "/var/log/nginx/", f"{root}/")
    text = _swap(text, "root /var/www/html;", f"root {root};")
    # When the test runs as root, nginx's workers would otherwise run as nobody, who cannot enter pytest's
    # private temporary folder to write a large request body.
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "".join(f"{name}_temp_path {root}/{name};\n" for name in ("client_body", "proxy"))
    main = root / f"{site}.main.conf"
    main.write_text(
        f"{user}daemon off;\nworker_processes 1;\npid {root}/nginx.pid;\nerror_log {root}/error.log info;\n"
        f"events {{ worker_connections 128; }}\n"
        f"http {{\ndefault_type application/octet-stream;\naccess_log {root}/access.log;\n{temp}{text}\n}}\n"
    )
    return main


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    """A hub (`nqsync server init` and `serve` on SQLite) behind nginx with a certificate from a throwaway CA."""
    root = tmp_path_factory.mktemp("tls")
    ca, other = trustme.CA(organization_name="Tỉnh ủy Mẫu CA"), trustme.CA(organization_name="Không phải tỉnh")
    server = ca.issue_cert("127.0.0.1", "localhost")
    cert, key = root / "server.crt", root / "server.key"
    server.private_key_pem.write_to_path(str(key))
    cert.write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    other.cert_pem.write_to_path(str(root / "other-ca.pem"))

    (root / "donvi.csv").write_text(UNITS_CSV, encoding="utf-8")
    hub_data = root / "hub"
    _ok("server", "init", "--data", str(hub_data), "--units", str(root / "donvi.csv"))
    https_port, http_port = free_port(), free_port()
    with serving("server", "serve", "--data", str(hub_data), log=root / "hub.log", timeout=30) as hub:
        conf = render(
            "nqsync.conf", root, https_port=https_port, http_port=http_port, app_port=hub.port, cert=cert, key=key
        )
        nginx_log = root / "nginx.out"
        with nginx_log.open("w") as out:
            nginx = subprocess.Popen(
                [str(NGINX), "-p", str(root), "-e", str(root / "error.log"), "-c", str(conf)], stdout=out, stderr=out
            )
        try:
            _wait_for_port(https_port, nginx, nginx_log)
            yield Proxy(
                f"https://127.0.0.1:{https_port}", f"http://127.0.0.1:{http_port}", root / "ca.pem",
                root / "other-ca.pem", hub_data, root,
            )  # fmt: skip
        finally:
            nginx.terminate()
            nginx.wait(timeout=30)


def _code(proxy: Proxy, unit: str) -> str:
    out = _ok("server", "enroll", "--data", str(proxy.hub_data), unit)
    found = re.search(r"[A-Z0-9]{4}(?:-[A-Z0-9]{4}){3}", out)
    assert found, out
    return found.group(0)


def _document(owner: uuid.UUID) -> DocumentRecord:
    return DocumentRecord(
        id=new_id(), owner=owner, audience=owner, rev=1, deleted=False, number="07-NQ/HU", title="Về chuyển đổi số",
        signed_on=date(2026, 3, 2), issuer="Huyện ủy", lead_agency="Văn phòng", applies_to=[],
    )  # fmt: skip


async def _write_document(data: Path) -> uuid.UUID:
    db = Database(sqlite_url(data / "nqsync.sqlite3"))
    try:
        async with db.write() as conn:
            unit = (await conn.execute(select(Identity.unit))).scalar_one()
            doc = _document(unit)
            await store.apply(conn, DOCUMENT, [doc], origin=None)
        return doc.id
    finally:
        await db.dispose()


async def _held(data: Path, table_query: object) -> list[object]:
    db = Database(sqlite_url(data / "nqsync.sqlite3"))
    try:
        async with db.read() as conn:
            return list((await conn.execute(table_query)).all())  # type: ignore[call-overload]
    finally:
        await db.dispose()


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_a_node_enrols_and_syncs_through_https_with_the_province_ca(proxy: Proxy) -> None:
    node = proxy.root / "node-h1"
    out = _ok(
        "node", "init", "--data", str(node), "--parent", proxy.url, "--code", _code(proxy, "H1"),
        "--ca-bundle", str(proxy.ca),
    )  # fmt: skip
    assert "Đã đăng ký nút cho đơn vị" in out
    assert "Đồng bộ xong" in out
    assert (node / "parent-ca.pem").read_text().strip() == proxy.ca.read_text().strip()

    # Later commands trust the kept CA without being told again, and the record arrives at the hub.
    doc = asyncio.run(_write_document(node))
    assert "gửi lên 1" in _ok("node", "sync", "--data", str(node))
    at_hub = asyncio.run(_held(proxy.hub_data, select(DOCUMENT.table.c.id).where(DOCUMENT.table.c.id == doc)))
    assert len(at_hub) == 1

    # Then the node is told to trust another CA only: the round fails in plain words, recorded for `node status`.
    failed = nqsync("node", "sync", "--data", str(node), NQSYNC_CA_BUNDLE=str(proxy.other_ca))
    assert failed.returncode == 2
    assert "Traceback" not in failed.stderr
    assert UNTRUSTED in _flat(failed.stderr)
    assert "--ca-bundle" in failed.stderr
    status = _flat(_ok("node", "status", "--data", str(node)))
    assert UNTRUSTED in status, status


def test_a_node_with_another_ca_is_refused_in_plain_words(proxy: Proxy) -> None:
    node = proxy.root / "node-h2"
    done = nqsync(
        "node", "init", "--data", str(node), "--parent", proxy.url, "--code", _code(proxy, "H2"),
        "--ca-bundle", str(proxy.other_ca),
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "SSLCertVerificationError" not in done.stderr
    message = _flat(done.stderr)
    assert UNTRUSTED in message
    assert "127.0.0.1" in message
    assert "--ca-bundle" in message
    # Nothing was kept: neither the wrong CA nor an upstream.
    assert not (node / "parent-ca.pem").exists()
    assert asyncio.run(_held(node, select(Upstream.url))) == []


def test_a_plain_http_parent_elsewhere_is_refused_before_any_connection(proxy: Proxy) -> None:
    node = proxy.root / "node-h3"
    done = nqsync("node", "init", "--data", str(node), "--parent", "http://tinhuy.example.vn", "--code", "X")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    message = _flat(done.stderr)
    assert "Không dùng http:// tới tinhuy.example.vn" in message
    assert "--allow-insecure-http" in message


def test_a_sync_body_near_the_limit_passes_through_nginx(proxy: Proxy) -> None:
    limit = HttpSettings().max_body_bytes
    # A real enrolment message, uncompressed, padded to just under the limit: the hub itself must answer it.
    body = pack(EnrolRequest(protocol=PROTOCOL, code="ABCD-EFGH-IJKL-MNOP", label="x" * (limit - 1024)), compress=False)
    assert limit - 2048 < len(body) <= limit
    headers = {PROTOCOL_HEADER: str(PROTOCOL), "content-type": MEDIA_TYPE}
    with httpx.Client(verify=ssl.create_default_context(cafile=str(proxy.ca)), timeout=120) as http:
        near = http.post(proxy.url + "/sync/v1/enrol", content=body, headers=headers)
        over = http.post(proxy.url + "/sync/v1/enrol", content=body + b"x" * (limit - len(body) + 1), headers=headers)
    assert near.status_code == 403 or near.status_code == 400, near.text[:300]
    assert near.json()["code"] == "bad_code"  # decoded by the hub: the whole body got through
    assert over.status_code == 413


def test_https_carries_hsts_once_and_http_redirects(proxy: Proxy) -> None:
    with httpx.Client(verify=ssl.create_default_context(cafile=str(proxy.ca))) as http:
        page = http.get(proxy.url + "/dang-nhap")
        missing = http.get(proxy.url + "/khong-co-trang-nay")
    for resp in (page, missing):
        assert resp.headers.get_list("strict-transport-security") == ["max-age=31536000"]
        assert len(resp.headers.get_list("content-security-policy")) == 1  # the app's, not repeated by nginx
    assert page.status_code == 200
    assert any(c.secure for c in page.cookies.jar), "cookies set over HTTPS behind the proxy are Secure"
    redirect = httpx.get(proxy.http_url + "/dang-nhap?x=1")
    assert redirect.status_code == 301
    assert redirect.headers["location"] == "https://127.0.0.1/dang-nhap?x=1"


def test_a_tls_1_2_only_client_is_served(proxy: Proxy) -> None:
    """An older office laptop's TLS 1.2 is enough (1.3 is offered too; nothing below 1.2 is configured)."""
    ctx = ssl.create_default_context(cafile=str(proxy.ca))
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    with httpx.Client(verify=ctx) as http:
        assert http.get(proxy.url + "/dang-nhap").status_code == 200


def test_the_district_variant_is_valid_nginx(proxy: Proxy) -> None:
    root = proxy.root / "district"
    root.mkdir()
    conf = render(
        "nqsync-district.conf", root, https_port=free_port(), http_port=free_port(), app_port=free_port(),
        cert=proxy.root / "server.crt", key=proxy.root / "server.key",
    )  # fmt: skip
    done = subprocess.run(
        [str(NGINX), "-t", "-p", str(root), "-e", str(root / "error.log"), "-c", str(conf)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
