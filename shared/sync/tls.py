"""A node's TLS to its parents: which CAs it trusts, which parent addresses it accepts, and failures in plain words.

A province usually runs its own CA: a node trusts the usual public CAs plus the bundle it was given at
`node init --ca-bundle` (kept in its data folder as `parent-ca.pem`) or by NQSYNC_CA_BUNDLE.
"""

from __future__ import annotations

import functools
import ipaddress
import ssl
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from shared.settings import PARENT_CA_FILE

CA_ENV = "NQSYNC_CA_BUNDLE"
PEM_BEGIN = "-----BEGIN CERTIFICATE-----"


class BadParentUrl(ValueError):
    """A parent address this node refuses; `message_vi` is shown to whoever ran `node init`."""

    def __init__(self, message_vi: str) -> None:
        super().__init__(message_vi)
        self.message_vi = message_vi


def tls_context(ca_bundle: str | None) -> ssl.SSLContext:
    """The TLS context for talking to parents: built once per process and bundle (reading CAs took ~70 ms, most
    of a no-op round when every round made its own)."""
    return _context(str(Path(ca_bundle).resolve()) if ca_bundle else None)


@functools.cache
def _context(ca_bundle: str | None) -> ssl.SSLContext:
    ctx = httpx.create_ssl_context()  # certifi's public CAs, TLS 1.2 or newer, host names checked
    if ca_bundle:
        ctx.load_verify_locations(cafile=ca_bundle)
    return ctx


def check_bundle(path: Path) -> str:
    """The PEM text of a CA bundle file, or ValueError with a Vietnamese reason (missing, not PEM, unreadable)."""
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise ValueError(f"Không tìm thấy tệp chứng chỉ gốc (CA) {path}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"Không đọc được tệp chứng chỉ gốc (CA) {path}: {exc}.") from None
    if PEM_BEGIN not in text:
        raise ValueError(
            f"Tệp {path} không phải chứng chỉ dạng PEM (phải có dòng {PEM_BEGIN}). "
            "Hãy xin bộ phận CNTT tệp chứng chỉ gốc của tỉnh ở dạng .pem hoặc .crt (Base64)."
        )
    try:
        ssl.create_default_context().load_verify_locations(cadata=text)
    except ssl.SSLError as exc:
        raise ValueError(f"Tệp chứng chỉ gốc (CA) {path} bị hỏng: {exc.reason or exc}.") from None
    return text


def keep_bundle(data_dir: Path, text: str) -> Path:
    """Add a CA bundle to the data folder's `parent-ca.pem` (kept, not replaced: a fallback parent may use another)."""
    target = data_dir / PARENT_CA_FILE
    held = target.read_text(encoding="ascii") if target.exists() else ""
    if text.strip() not in held:
        data_dir.mkdir(parents=True, exist_ok=True)
        target.write_text((held.rstrip() + "\n" if held.strip() else "") + text.strip() + "\n", encoding="ascii")
    return target


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost, judged from the address alone (no name lookup)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_parent_url(url: str, *, allow_insecure_http: bool) -> str | None:
    """Raise BadParentUrl for an address a node must not use; return a warning (Vietnamese) for plain HTTP allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadParentUrl(f"Địa chỉ cấp trên không hợp lệ: {url!r}. Ví dụ đúng: https://tinhuy.example.vn")
    if parts.scheme == "https":
        return None
    if is_loopback(parts.hostname):
        return None
    if not allow_insecure_http:
        raise BadParentUrl(
            f"Không dùng http:// tới {parts.hostname}: dữ liệu đảng viên và mật khẩu kết nối sẽ đi trên mạng không "
            "mã hóa. Hãy dùng địa chỉ https:// của cấp trên (hỏi bộ phận CNTT). Chỉ khi thử nghiệm trong mạng "
            "kín mới thêm --allow-insecure-http."
        )
    return (
        f"Cảnh báo: kết nối tới {parts.hostname} bằng http:// không mã hóa (--allow-insecure-http). "
        "Chỉ dùng khi thử nghiệm; khi vận hành thật hãy dùng https://."
    )


def tls_failure(exc: BaseException, host: str) -> tuple[str, str, str] | None:
    """(code, Vietnamese message, English message) when `exc` was caused by TLS, else None."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ssl.SSLError):
        cause = cause.__cause__ or cause.__context__
    if cause is None:
        return None
    fix_ca = (
        "Hãy xin bộ phận CNTT tệp chứng chỉ gốc (CA) của tỉnh rồi chạy `nqsync node init ... --ca-bundle TỆP` "
        f"(hoặc đặt {CA_ENV}=TỆP)."
    )
    if isinstance(cause, ssl.SSLCertVerificationError):
        code = cause.verify_code
        detail = cause.verify_message or str(cause)
        if code == 10:  # X509_V_ERR_CERT_HAS_EXPIRED
            return (
                "tls_expired",
                f"Chứng chỉ bảo mật của máy chủ cấp trên ({host}) đã hết hạn. Hãy báo bộ phận CNTT của cấp trên "
                "gia hạn chứng chỉ; đồng thời kiểm tra ngày giờ trên máy này có đúng không.",
                f"The parent's certificate ({host}) has expired: {detail}",
            )
        if code == 9:  # X509_V_ERR_CERT_NOT_YET_VALID
            return (
                "tls_not_yet_valid",
                f"Chứng chỉ bảo mật của máy chủ cấp trên ({host}) chưa có hiệu lực. Hãy kiểm tra ngày giờ trên máy "
                "này; nếu đúng, báo bộ phận CNTT của cấp trên.",
                f"The parent's certificate ({host}) is not yet valid: {detail}",
            )
        if code == 62:  # X509_V_ERR_HOSTNAME_MISMATCH
            return (
                "tls_wrong_host",
                f"Chứng chỉ bảo mật của máy chủ trả lời không dành cho địa chỉ {host}. Hãy kiểm tra lại địa chỉ "
                "cấp trên (phải đúng tên ghi trong chứng chỉ); nếu địa chỉ đúng, báo bộ phận CNTT.",
                f"The certificate is not valid for {host}: {detail}",
            )
        return (
            "tls_untrusted",
            f"Máy này không tin cậy chứng chỉ bảo mật của máy chủ cấp trên ({host}): chứng chỉ không do cơ quan "
            f"cấp chứng chỉ mà máy này biết cấp. {fix_ca}",
            f"The parent's certificate ({host}) is not trusted: {detail}",
        )
    return (
        "tls_failed",
        f"Không thiết lập được kết nối bảo mật (TLS) với cấp trên ({host}). Hãy kiểm tra địa chỉ có đúng là "
        "https:// của máy chủ nqsync không; nếu đúng, báo bộ phận CNTT.",
        f"TLS handshake with {host} failed: {cause}",
    )
