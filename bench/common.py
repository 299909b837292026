"""Small helpers shared by the bench scripts: paths, the fake AWS environment, statistics, tables."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Iterable, MutableMapping, Sequence

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"  # git-ignored: raw results of the last runs

REGION = "eu-central-1"
PLATFORM_KEY = "platform-bench-key-0123456789abcdefghijklmnop"

FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "AWS_EC2_METADATA_DISABLED": "true",
}
_REMOVED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ROLE_ARN",
            "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")


def apply_fake_aws(environ: MutableMapping[str, str], endpoint_url: str | None = None,
                   dynamodb_url: str | None = None) -> MutableMapping[str, str]:
    """Fake credentials and one region (and the endpoints, if given): nothing can reach real AWS."""
    for name in _REMOVED:
        environ.pop(name, None)
    environ.update(FAKE_AWS)
    if endpoint_url:
        environ["AWS_ENDPOINT_URL"] = endpoint_url
    if dynamodb_url:
        environ["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb_url
    return environ


def stage_environment(stage: str = "dev") -> dict[str, str]:
    """The Lambda environment variables .chalice/config.json gives the stage."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    env = dict(config.get("environment_variables", {}))
    env.update(config.get("stages", {}).get(stage, {}).get("environment_variables", {}))
    return env


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (p90 of 15 values is the 14th smallest)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |")
    return "\n".join(lines)


def save(name: str, data: object) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path
