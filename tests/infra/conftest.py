"""Synthesises the CDK app once per test run (shared by the xdist workers) and loads the template.

The synthesis runs in .venv-infra (CDK, jsii, cfn-lint), offline: a region, no credentials,
no AWS config. Workers share one output through a lock file in the run's base temp dir.
"""
from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INFRA_BIN = ROOT / ".venv-infra" / "bin"
REGION = "eu-central-1"
SYNTH_TIMEOUT = 900


def offline_env() -> dict[str, str]:
    """This process's environment without any AWS credentials, profile or CDK settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "CDK_", "PYTHON")) and k != "VIRTUAL_ENV"}
    env.update({
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true", "CDK_DEFAULT_REGION": REGION,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    })
    return env


def infra_python() -> str:
    python = INFRA_BIN / "python"
    if not python.exists():
        pytest.fail("no .venv-infra: run `make infra-setup` (make test does)")
    return str(python)


def _shared_dir(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent  # one per run, seen by every worker


def run_synth(argv: list[str], outdir: Path) -> dict:
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=ROOT, env={**offline_env(), "CDK_OUTDIR": str(outdir)},
                          capture_output=True, text=True, timeout=SYNTH_TIMEOUT)
    return {"returncode": proc.returncode, "output": proc.stdout + proc.stderr,
            "seconds": round(time.monotonic() - started, 1), "outdir": str(outdir)}


def synthesised(tmp_path_factory, worker_id: str, name: str, argv: list[str]) -> dict:
    """Runs `argv` (which writes a cloud assembly into $CDK_OUTDIR) once per test run."""
    shared = _shared_dir(tmp_path_factory, worker_id)
    result_file = shared / f"{name}.synth.json"
    with open(shared / f"{name}.synth.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not result_file.exists():
            result_file.write_text(json.dumps(run_synth(argv, shared / f"{name}.cdk.out")))
    result = json.loads(result_file.read_text())
    if result["returncode"] != 0:
        pytest.fail(f"synth of {name} failed ({result['returncode']}):\n{result['output'][-6000:]}")
    print(f"{name}: synthesised in {result['seconds']}s", file=sys.stderr)
    return result


def load_template(result: dict) -> tuple[Path, dict]:
    path = Path(result["outdir"]) / "dev.template.json"
    return path, json.loads(path.read_text())


@pytest.fixture(scope="session")
def real_synth(tmp_path_factory, worker_id):
    return synthesised(tmp_path_factory, worker_id, "real", [infra_python(), "infra/app.py"])


@pytest.fixture(scope="session")
def fake_synth(tmp_path_factory, worker_id):
    script = str(Path(__file__).with_name("fake_stack.py"))
    return synthesised(tmp_path_factory, worker_id, "fake", [infra_python(), script])
