"""CDK entry point: synthesises the Roster stack into infra/cdk.out (or $CDK_OUTDIR).

Offline: needs a region (CDK_DEFAULT_REGION, AWS_REGION or the default below), no credentials.
Run with the infra environment: `.venv-infra/bin/python infra/app.py` (what `make synth` does),
or through the pinned CDK CLI from infra/ (cdk.json), which sets CDK_OUTDIR itself.
"""
from __future__ import annotations

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# chalice imports the project's app.py as `app`: this file must not be found under that name.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
sys.path.insert(0, ROOT)
# jsii prints a banner about the Node.js version on every start; the version is documented.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

DEFAULT_REGION = "eu-central-1"


def _flag(value: object) -> bool:
    return str(value or "").strip().lower() in {"1", "true", "yes", "on"}


def main() -> None:
    started = time.monotonic()
    import aws_cdk as cdk

    from chalicelib.resources import RESOURCES
    from infra.stack import STAGE, RosterStack

    app = cdk.App(outdir=os.environ.get("CDK_OUTDIR") or os.path.join(HERE, "cdk.out"))
    region = os.environ.get("CDK_DEFAULT_REGION") or os.environ.get("AWS_REGION") or DEFAULT_REGION
    # chalice's packager builds boto3 clients (no call is made): they need a region.
    os.environ.setdefault("AWS_DEFAULT_REGION", region)
    tracing = _flag(app.node.try_get_context("roster:tracing") or os.environ.get("ROSTER_TRACING"))
    RosterStack(
        app, STAGE,
        resources=RESOURCES,
        source_dir=ROOT,
        tracing=tracing,
        env=cdk.Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=region),
    )
    assembly = app.synth()
    print(f"synthesised {', '.join(s.stack_name for s in assembly.stacks)} into {assembly.directory} "
          f"in {time.monotonic() - started:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
