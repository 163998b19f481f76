"""The systemd units in deploy/systemd: systemd itself accepts them, they keep their hardening, the sysusers file
creates the service user, the example environment file lists every setting, and nqsync runs under
MemoryDenyWriteExecute."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNITS_DIR = ROOT / "deploy" / "systemd"
UNITS = ("nqsync-hub.service", "nqsync-worker.service", "nqsync-node.service")
NQSYNC = Path(sys.executable).with_name("nqsync")
INSTALLED = "/opt/nqsync/bin/nqsync"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"
HARDENING = {
    "User": "nqsync",
    "Group": "nqsync",
    "StateDirectory": "nqsync",
    "EnvironmentFile": "-/etc/nqsync/nqsync.env",
    "Restart": "on-failure",
    "KillSignal": "SIGTERM",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
    "LockPersonality": "yes",
    "MemoryDenyWriteExecute": "yes",
    "SystemCallFilter": "@system-service",
    "CapabilityBoundingSet": "",
    "StandardOutput": "journal",
    "StandardError": "journal",
}
COMMANDS = {
    "nqsync-hub.service": "server serve",
    "nqsync-worker.service": "server worker",
    "nqsync-node.service": "node serve",
}


def _service(name: str) -> dict[str, str]:
    """The [Service] section of a unit (systemd's syntax is close enough to INI for these files)."""
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string((UNITS_DIR / name).read_text(encoding="utf-8"))
    return dict(parser["Service"])


@pytest.mark.parametrize("name", UNITS)
def test_systemd_analyze_verify_accepts_the_unit(name: str, tmp_path: Path) -> None:
    if not Path(SYSTEMD_ANALYZE).exists():
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    # verify checks that ExecStart's program exists: point it at this venv's nqsync instead of /opt/nqsync.
    text = (UNITS_DIR / name).read_text(encoding="utf-8")
    assert INSTALLED in text
    (tmp_path / name).write_text(text.replace(INSTALLED, str(NQSYNC)), encoding="utf-8")
    done = subprocess.run(
        [SYSTEMD_ANALYZE, "verify", str(tmp_path / name)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert (done.returncode, done.stderr, done.stdout) == (0, "", "")


@pytest.mark.parametrize("name", UNITS)
def test_unit_keeps_its_user_state_directory_and_hardening(name: str) -> None:
    service = _service(name)
    assert {key: service.get(key) for key in HARDENING} == HARDENING
    assert service["ExecStart"] == f"{INSTALLED} {COMMANDS[name]}"
    assert service["RestartSec"]
    assert service["TimeoutStopSec"]


def test_stop_timeouts_leave_room_for_the_graceful_stop() -> None:
    """systemd's SIGKILL comes after TimeoutStopSec: above the hub's grace for requests, the worker's wait for
    jobs and one sync request of a node (each bounded by the 60 s sync timeout)."""
    from shared.settings import HttpSettings, SyncSettings

    def seconds(name: str) -> float:
        return float(_service(name)["TimeoutStopSec"].removesuffix("s"))

    assert seconds("nqsync-hub.service") > HttpSettings().graceful_shutdown_seconds
    assert seconds("nqsync-worker.service") > 60  # server/jobs.py: job_completion_wait
    assert seconds("nqsync-node.service") > SyncSettings().request_timeout_seconds


def test_sysusers_file_creates_a_system_user_that_cannot_log_in(tmp_path: Path) -> None:
    sysusers = shutil.which("systemd-sysusers")
    if sysusers is None:
        pytest.skip("systemd-sysusers is not installed (Debian package systemd)")
    (tmp_path / "etc").mkdir()
    done = subprocess.run(
        [sysusers, f"--root={tmp_path}", str(UNITS_DIR / "nqsync.conf")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    users = {line.split(":")[0]: line.split(":") for line in (tmp_path / "etc/passwd").read_text().splitlines()}
    _, _, uid, _, _, home, shell = users["nqsync"]
    assert int(uid) < 1000  # a system account
    assert (home, shell) == ("/var/lib/nqsync", "/usr/sbin/nologin")
    assert "nqsync" in {line.split(":")[0] for line in (tmp_path / "etc/group").read_text().splitlines()}


def test_example_environment_file_lists_every_setting() -> None:
    read = set()
    for folder in ("shared", "server", "node"):
        for path in (ROOT / folder).rglob("*.py"):
            read |= set(re.findall(r"NQSYNC_[A-Z_]+", path.read_text(encoding="utf-8")))
    example = (UNITS_DIR / "nqsync.env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^#?(NQSYNC_[A-Z_]+)=", example, flags=re.MULTILINE))
    assert read == listed


def test_nqsync_runs_when_memory_cannot_be_writable_and_executable(tmp_path: Path) -> None:
    """MemoryDenyWriteExecute=yes in the units: the kernel's PR_SET_MDWE is the same rule, set on this process."""
    probe = subprocess.run([sys.executable, "-c", _MDWE + "print('ok')"], capture_output=True, text=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip(f"this kernel cannot refuse writable+executable memory (PR_SET_MDWE): {probe.stderr.strip()}")
    data = tmp_path / "hub"
    done = subprocess.run(
        [sys.executable, "-c", _MDWE + _EXEC, str(NQSYNC), "server", "init", "--data", str(data)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    assert (data / "nqsync.sqlite3").exists()


# PR_SET_MDWE (65) with PR_MDWE_REFUSE_EXEC_GAIN (1): kept across exec, like systemd's seccomp filter.
_MDWE = (
    "import ctypes, mmap, sys\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "if libc.prctl(65, 1, 0, 0, 0) != 0: sys.exit(f'prctl: errno {ctypes.get_errno()}')\n"
    "try:\n"
    "    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)\n"
    "    sys.exit('a writable and executable mapping was allowed')\n"
    "except PermissionError:\n"
    "    pass\n"
)
_EXEC = "import os, sys; os.execv(sys.argv[1], sys.argv[1:])"
