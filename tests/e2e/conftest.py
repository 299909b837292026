"""The `local_stack` fixture: `python -m infra.local_stack` on free ports, one per test session (xdist worker)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
READY_MARKER = "ROSTER_LOCAL_READY "
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 30
PLATFORM_KEY = "e2e-platform-key-0123456789abcdefghijklmnopqrstuv"


@dataclass(frozen=True)
class RunningStack:
    api_url: str
    console_url: str
    aws_url: str
    dynamodb_url: str
    platform_key: str
    environ: dict[str, str]  # the stack's environment: resolves resource names the way the app does
    log_path: Path
    pid: int

    def log_tail(self, lines: int = 60) -> str:
        return _tail(self.log_path, lines)


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory) -> RunningStack:
    """Starts the local stack as a subprocess, waits for its READY line, stops it with SIGINT."""
    from chalicelib.resources import RESOURCES

    log_path = tmp_path_factory.mktemp("local_stack") / "stack.log"
    environ = {name: value for name, value in os.environ.items()
               if name not in {resource.name_env for resource in (*RESOURCES.tables, *RESOURCES.queues, *RESOURCES.secrets)}}
    environ.update(ROSTER_PLATFORM_KEY=PLATFORM_KEY, PYTHONUNBUFFERED="1")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "infra.local_stack", "--api-port", "0", "--console-port", "0", "--aws-port", "0", "--dynamodb-port", "0"],
            cwd=PROJECT_DIR, env=environ, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        ready = _wait_for_ready(process, log_path)
    except BaseException:
        _kill(process)
        raise
    yield RunningStack(ready["api"], ready["console"], ready["aws"], ready["dynamodb"], ready["platform_key"],
                       {**environ, **_stage_environment()}, log_path, process.pid)
    children = child_pids(process.pid)  # the function processes (and multiprocessing's tracker)
    process.send_signal(signal.SIGINT)
    try:
        code = process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        _kill(process)
        pytest.fail(f"the local stack did not stop within {STOP_TIMEOUT_SECONDS}s after SIGINT\n{_tail(log_path)}")
    assert code == 0, f"the local stack exited with {code} after SIGINT\n{_tail(log_path)}"
    assert "Stopped. All local state is gone." in log_path.read_text(errors="replace")
    deadline = time.monotonic() + 5
    while (left := [pid for pid in children if _running(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"the local stack left processes {left} behind\n{_tail(log_path)}"


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux: /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = _stat_fields(stat)
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _running(pid: int) -> bool:
    """Not ended (an ended process whose parent died stays a zombie until init reaps it)."""
    try:
        return _stat_fields(Path(f"/proc/{pid}/stat"))[0] != "Z"
    except OSError:
        return False


def _stat_fields(stat: Path) -> list[str]:
    """The fields of /proc/<pid>/stat after "pid (comm)": state, ppid, …"""
    return stat.read_text().rsplit(")", 1)[1].split()


def _wait_for_ready(process: subprocess.Popen, log_path: Path) -> dict[str, str]:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        for line in log_path.read_text(errors="replace").splitlines():
            if line.startswith(READY_MARKER):
                return json.loads(line[len(READY_MARKER):])
        if process.poll() is not None:
            pytest.fail(f"the local stack exited with {process.returncode} before it was ready\n{_tail(log_path)}")
        time.sleep(0.1)
    pytest.fail(f"the local stack was not ready within {START_TIMEOUT_SECONDS}s\n{_tail(log_path)}")


def _stage_environment() -> dict[str, str]:
    from infra.local_stack.chalice_project import load_config

    return dict(load_config(str(PROJECT_DIR), "dev").environment_variables)


def _kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


def _tail(log_path: Path, lines: int = 60) -> str:
    return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])


def eventually(probe, what: str, seconds: float = 20):
    """Polls `probe` until it returns something truthy; fails after `seconds` with `what`.

    20 s by default: the queue runner long-polls for 1 s, and a mail and its feedback take well
    under 5 s, so the limit only bounds a broken pipeline."""
    deadline = time.monotonic() + seconds
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"after {seconds}s still no {what} (last: {value!r})")
        time.sleep(0.2)
