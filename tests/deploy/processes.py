"""Running the real `nqsync` command of this environment from deploy tests: one-shot commands and served processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

NQSYNC = str(Path(sys.executable).with_name("nqsync"))
FIRST_PASSWORD = "mat-khau-tam-thoi-1"
PASSWORD = "mat-khau-cua-van-phong-2"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env(**extra: str) -> dict[str, str]:
    """This process's environment without any NQSYNC_* setting (each command gets its flags), wide for tables."""
    out = {k: v for k, v in os.environ.items() if not k.startswith("NQSYNC_")}
    out["COLUMNS"] = "1000"
    out.update(extra)
    return out


def nqsync(*args: str, stdin: str | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NQSYNC, *args], input=stdin, capture_output=True, text=True, timeout=180, env=env(**extra))


def ok(*args: str, stdin: str | None = None) -> str:
    done = nqsync(*args, stdin=stdin)
    assert done.returncode == 0, f"nqsync {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@contextmanager
def serving(log: Path, *args: str, port: int, **extra: str) -> Iterator[subprocess.Popen[bytes]]:
    """`nqsync ARGS` running until /health answers on `port`; stopped with SIGTERM at the end."""
    with log.open("w") as out:
        proc = subprocess.Popen([NQSYNC, *args], env=env(**extra), stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, f"exited early:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"/health did not answer on {port} in 60 s:\n{log.read_text()}"
            time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=60)


@contextmanager
def signed_in(base_url: str, username: str) -> Iterator[httpx.Client]:
    """An API client signed in as an account `user-add` made (its first password changed, as the owner must)."""
    with httpx.Client(base_url=base_url + "/api/v1", timeout=30) as api:
        yield _sign_in(api, username)


def _sign_in(api: httpx.Client, username: str) -> httpx.Client:
    login = api.post("/auth/login", json={"username": username, "password": FIRST_PASSWORD})
    assert login.status_code == 200, login.text
    api.headers["authorization"] = f"Bearer {login.json()['token']}"
    changed = api.post("/auth/password", json={"current_password": FIRST_PASSWORD, "new_password": PASSWORD})
    assert changed.status_code == 200, changed.text
    token = api.post("/auth/login", json={"username": username, "password": PASSWORD}).json()["token"]
    api.headers["authorization"] = f"Bearer {token}"
    return api
