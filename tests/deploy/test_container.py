"""deploy/container/: the hub's image and compose file.

The static test reads the files as docker would (no daemon needed); the live one builds the image and brings the
whole compose project up where a Docker daemon and the compose plugin answer, and skips saying which is missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.harness import free_port

CONTAINER = Path(__file__).resolve().parents[2] / "deploy" / "container"
COMPOSE = CONTAINER / "compose.yaml"
SERVICES = {"hub", "worker", "postgres", "redis"}


def _compose() -> dict[str, object]:
    yaml = pytest.importorskip("yaml", reason="PyYAML is not in this environment")
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_compose_runs_hub_worker_postgres_and_redis_with_health_checks_and_named_volumes() -> None:
    data = _compose()
    services: dict[str, dict[str, object]] = data["services"]  # type: ignore[assignment]
    assert set(services) == SERVICES
    declared = set(data["volumes"])  # type: ignore[arg-type]
    for name, service in services.items():
        check = service.get("healthcheck")
        assert isinstance(check, dict), f"{name} has no health check"
        assert check["test"], name
        mounts = {str(v).split(":", 1)[0] for v in service.get("volumes", [])}  # type: ignore[attr-defined]
        assert mounts <= declared, f"{name} mounts an undeclared volume or a host folder: {mounts - declared}"
        assert mounts, f"{name} keeps its state in a named volume"
    hub, worker = services["hub"], services["worker"]
    assert hub["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert worker["depends_on"] == {"hub": {"condition": "service_healthy"}}, "the hub migrates before the worker"
    assert worker["image"] == hub["image"], "one image, two commands"
    assert worker["command"] == ["nqsync", "server", "worker"]
    # `nqsync server backup` in the hub container runs the image's pg_dump, which refuses a newer server.
    client = re.search(r"postgresql-client-(\d+)", (CONTAINER / "Dockerfile").read_text(encoding="utf-8"))
    assert client, "the image has pg_dump for backups"
    assert services["postgres"]["image"] == f"postgres:{client.group(1)}-bookworm"
    assert "/health" in " ".join(hub["healthcheck"]["test"])  # type: ignore[index]
    assert all(str(p).startswith("127.0.0.1:") for p in hub["ports"]), "only the host's TLS proxy reaches the hub"  # type: ignore[attr-defined]
    for name in ("hub", "worker", "postgres"):
        assert "nqsync.env" in str(services[name]["env_file"]), f"{name} reads the env file"


def test_the_env_example_points_the_hub_at_the_compose_services() -> None:
    env = dict(
        line.split("=", 1)
        for line in (CONTAINER / "nqsync.env.example").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    assert env["NQSYNC_DATABASE_URL"] == (
        f"postgresql+asyncpg://{env['POSTGRES_USER']}:{env['POSTGRES_PASSWORD']}@postgres:5432/{env['POSTGRES_DB']}"
    )
    assert env["NQSYNC_REDIS_URL"].startswith("redis://redis:6379/")


def test_the_dockerfile_builds_from_the_lock_in_stages_and_runs_as_a_user_with_a_health_check() -> None:
    text = (CONTAINER / "Dockerfile").read_text(encoding="utf-8")
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2, "multi-stage"
    assert "uv sync --frozen --no-dev" in text
    assert "COPY --from=build /app/.venv" in text, "the final stage takes the environment only"
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users, "no USER: the container would run as root"
    assert users[-1] not in {"root", "0", "0:0"}
    assert re.search(r"^HEALTHCHECK .*\n?.*/health", text, re.M)
    # The build context is cut to what the stages copy: every COPY source must survive the ignore file.
    kept = {line[1:].rstrip("/") for line in (CONTAINER / "Dockerfile.dockerignore").read_text().splitlines()
            if line.startswith("!")}  # fmt: skip
    for sources in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.M):
        assert set(sources.split()) <= kept, sources


def _docker_missing() -> str | None:
    if shutil.which("docker") is None:
        return "no docker client on this machine"
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60)
    if info.returncode != 0:
        return f"no Docker daemon answers (`docker info`: {(info.stderr or info.stdout).strip().splitlines()[-1:]})"
    plugin = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, timeout=60)
    if plugin.returncode != 0:
        return "the docker compose plugin is not installed (`docker compose version` failed)"
    return None


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[list[str], int, dict[str, str]]]:
    missing = _docker_missing()
    if missing:
        pytest.skip(missing)
    env_file = tmp_path / "nqsync.env"
    password = uuid.uuid4().hex
    env_file.write_text((CONTAINER / "nqsync.env.example").read_text().replace("CHANGE-ME", password))
    port = free_port()
    base = ["docker", "compose", "-f", str(COMPOSE), "-p", f"nqsync-test-{uuid.uuid4().hex[:8]}"]
    env = {"NQSYNC_ENV_FILE": str(env_file), "NQSYNC_HUB_PORT": str(port)}
    run_env = {**os.environ, **env}
    try:
        up = subprocess.run([*base, "up", "-d", "--build", "--wait"], capture_output=True, text=True, timeout=1200,
                            env=run_env)  # fmt: skip
        assert up.returncode == 0, up.stdout + up.stderr
        yield base, port, run_env
    finally:
        subprocess.run([*base, "down", "-v"], capture_output=True, timeout=300, env=run_env)


def test_the_compose_project_comes_up_healthy_and_the_hub_answers(
    project: tuple[list[str], int, dict[str, str]],
) -> None:
    base, port, env = project
    assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200
    check = subprocess.run([*base, "exec", "-T", "hub", "nqsync", "server", "check"], capture_output=True, text=True,
                           timeout=120, env=env)  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr
    assert "OK        Redis" in check.stdout
    whoami = subprocess.run(
        [*base, "exec", "-T", "hub", "id", "-u"], capture_output=True, text=True, timeout=60, env=env
    )
    assert whoami.stdout.strip() != "0", "the hub runs as a non-root user"
