"""The real `nqsync` of this environment, from deploy tests: one-shot commands and signed-in API clients."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from tests.harness import NQSYNC, clean_env

FIRST_PASSWORD = "mat-khau-tam-thoi-1"
PASSWORD = "mat-khau-cua-van-phong-2"


def env(**extra: str) -> dict[str, str]:
    """`clean_env`, wide for tables (each command gets its flags)."""
    return clean_env(COLUMNS="1000", **extra)


def nqsync(*args: str, stdin: str | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NQSYNC, *args], input=stdin, capture_output=True, text=True, timeout=180, env=env(**extra))


def ok(*args: str, stdin: str | None = None) -> str:
    done = nqsync(*args, stdin=stdin)
    assert done.returncode == 0, f"nqsync {' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


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
