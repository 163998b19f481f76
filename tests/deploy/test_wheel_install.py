"""The office laptop install (issue 13 item 6): the wheel alone, in a clean venv, runs a hub and an enrolled node.

Nothing from the checkout is on the path of the installed `nqsync`: templates, the stylesheet and the migrations
must come out of the wheel, and only the runtime dependencies are installed (no dev group, no hub extra).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.harness import Served, serving

ROOT = Path(__file__).resolve().parents[2]
UNITS_CSV = """ma,ten,ma_cap_tren,cap,loai
TU,Tỉnh ủy Hòa Bình Mẫu,,Tỉnh,Cấp ủy
H1,Huyện ủy Lạc Sơn Mẫu,TU,Huyện,Cấp ủy
H1B1,Đảng bộ xã Gia Tiến,H1,Cơ sở,Đảng bộ cơ sở
"""
CODE = re.compile(r"[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}")
FIRST_PASSWORD = "mat khau tam thoi cap lan dau"
PASSWORD = "chi bo hop ngay 5 hang thang"


def _uv() -> str | None:
    return os.environ.get("UV") or shutil.which("uv") or shutil.which("uv", path=str(ROOT / ".tools" / "uv" / "bin"))


def _env(cwd_free: Path) -> dict[str, str]:
    """No NQSYNC_* from the test run, and no way back into the checkout (PYTHONPATH, the repo's venv)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NQSYNC_", "VIRTUAL_ENV", "PYTHON", "UV_"))}
    env["COLUMNS"] = "200"
    env["HOME"] = str(cwd_free)
    return env


class Installed:
    """The `nqsync` of a clean venv, run from an empty folder outside the checkout."""

    def __init__(self, venv: Path, home: Path) -> None:
        self.venv = venv
        self.exe = str(venv / ("Scripts" if os.name == "nt" else "bin") / "nqsync")
        self.home = home
        self.running = ExitStack()

    def run(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [self.exe, *args], input=stdin, capture_output=True, text=True, timeout=180, env=_env(self.home),
            cwd=self.home,
        )  # fmt: skip
        assert done.returncode == 0, f"nqsync {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def start(self, name: str, *args: str) -> Served:
        """`nqsync <args> --port P` of the venv, until /health answers; it runs until the module's tests end."""
        return self.running.enter_context(
            serving(*args, env=_env(self.home), log=self.home / f"{name}.log", exe=self.exe, cwd=self.home)
        )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    uv = _uv()
    if uv is None:
        pytest.skip("uv is not installed: it builds the wheel (`uv build --wheel`)")
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    subprocess.run([uv, "build", "--wheel", "--out-dir", str(dist), str(ROOT)], check=True, capture_output=True)
    (wheel,) = dist.glob("nqsync-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / ("Scripts" if os.name == "nt" else "bin") / "python"
    # Runtime dependencies only: the wheel's own requirements, as `pip install nqsync-….whl` would resolve them.
    subprocess.run([uv, "pip", "install", "--quiet", "--python", str(python), str(wheel)], check=True)
    home = root / "home"
    home.mkdir()
    env = Installed(venv, home)
    yield env
    env.running.close()


def test_the_wheel_carries_templates_static_files_and_migrations(installed: Installed) -> None:
    site = subprocess.run(
        [str(installed.venv / "bin" / "python"), "-c", "import shared, sys; print(shared.__file__)"],
        capture_output=True, text=True, check=True, cwd=installed.home, env=_env(installed.home),
    ).stdout.strip()  # fmt: skip
    package = Path(site).parent
    assert str(ROOT) not in str(package), "the installed package must not be the checkout"
    assert (package / "ui" / "static" / "site.css").is_file()
    assert (package / "ui" / "templates" / "base.html").is_file()
    assert list((package / "db" / "migrations" / "versions").glob("*.py"))
    dev_only = subprocess.run(
        [str(installed.venv / "bin" / "python"), "-c", "import pytest"], capture_output=True, env=_env(installed.home)
    )
    assert dev_only.returncode != 0, "dev dependencies must not come with the wheel"


def test_a_node_installed_from_the_wheel_enrols_serves_its_page_and_syncs(installed: Installed) -> None:
    home = installed.home
    (home / "donvi.csv").write_text(UNITS_CSV, encoding="utf-8")
    hub_data = str(home / "hub")
    assert "đơn vị mới" in installed.run("server", "init", "--data", hub_data, "--units", str(home / "donvi.csv"))
    installed.run(
        "server", "user-add", "--data", hub_data, "--unit", "TU", "--role", "admin", "--username", "tinhuy",
        "--password-stdin", stdin=FIRST_PASSWORD + "\n",
    )  # fmt: skip
    hub_url = installed.start("hub", "server", "serve", "--data", hub_data).url

    code = CODE.search(installed.run("server", "enroll", "H1B1", "--data", hub_data))
    assert code
    node_data = str(home / "nut")
    init = installed.run("node", "init", "--data", node_data, "--parent", hub_url, "--code", code.group(0))
    assert "Đã đăng ký nút cho đơn vị H1B1" in init
    assert "Đồng bộ xong" in init

    node = installed.start("node", "node", "serve", "--data", node_data, "--interval", "1")
    with httpx.Client(base_url=node.url, timeout=30) as web:
        page = web.get("/", follow_redirects=True)
        assert page.status_code == 200
        assert "Đăng nhập" in page.text
        css = re.search(r'href="(/static/[^"]+\.css)"', page.text)
        assert css, "the page links its stylesheet"
        sheet = web.get(css.group(1))
        assert sheet.status_code == 200
        assert sheet.headers["content-type"].startswith("text/css")
        assert len(sheet.content) > 1000

    with httpx.Client(base_url=hub_url + "/api/v1", timeout=30) as api:
        token = api.post("/auth/login", json={"username": "tinhuy", "password": FIRST_PASSWORD}).json()["token"]
        api.headers["authorization"] = f"Bearer {token}"
        changed = api.post("/auth/password", json={"current_password": FIRST_PASSWORD, "new_password": PASSWORD})
        assert changed.status_code == 200, changed.text
        token = api.post("/auth/login", json={"username": "tinhuy", "password": PASSWORD}).json()["token"]
        api.headers["authorization"] = f"Bearer {token}"

        def seen() -> dict[str, str | None]:
            got = api.get("/sync/nodes")
            assert got.status_code == 200, got.text
            (row,) = got.json()
            assert row["unit_code"] == "H1B1"
            return row  # type: ignore[no-any-return]

        after_init = seen()
        assert after_init["last_push"], "node init ran a first sync round"
        assert after_init["last_pull"]
        # `node serve` syncs on its own: a unit renamed at the hub reaches the node in a later round.
        (home / "donvi.csv").write_text(UNITS_CSV.replace("xã Gia Tiến", "xã Gia Tiến mới"), encoding="utf-8")
        assert "1 cập nhật" in installed.run("server", "init", "--data", hub_data, "--units", str(home / "donvi.csv"))
        deadline = time.monotonic() + 90
        while (row := seen())["last_pull"] == after_init["last_pull"]:
            assert node.proc.poll() is None, node.output()
            assert time.monotonic() < deadline, f"no round from `node serve`:\n{node.output()}"
            time.sleep(0.5)
        assert row["last_push"]
    assert "Đảng bộ xã Gia Tiến mới" in installed.run("node", "status", "--data", node_data)
