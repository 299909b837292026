"""Synthesises the stack for tests/infra/fake_app with FAKE_RESOURCES (run with .venv-infra).

usage: CDK_OUTDIR=DIR fake_stack.py [--undeclared-queue | --unconsumed-queue]
Tracing is on here (it is off in the real app) and the SES send rate comes from the context
(the real app uses the default), so that both ways are synthesised.
The app is copied to a temporary directory first: chalice writes its package cache there.
With --undeclared-queue the app's queue is left out of the declarations, with
--unconsumed-queue a queue no function reads is added: either way synth must fail.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != HERE]
sys.path.insert(0, ROOT)
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("AWS_DEFAULT_REGION", "eu-central-1")


def main(variant: str | None) -> None:
    import importlib.util

    import aws_cdk as cdk

    from chalicelib.resources import Queue
    from infra.stack import RosterStack

    spec = importlib.util.spec_from_file_location("fake_resources", os.path.join(HERE, "fake_resources.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    resources = module.FAKE_RESOURCES
    if variant == "--undeclared-queue":
        resources = resources._replace(queues=())
    elif variant == "--unconsumed-queue":
        unused = Queue("UnusedQueue", "FAKE_UNUSED_QUEUE", "fake-unused", handler="")
        resources = resources._replace(queues=(*resources.queues, unused))

    with tempfile.TemporaryDirectory(prefix="roster-fake-app-") as tmp:
        source_dir = os.path.join(tmp, "fake_app")
        shutil.copytree(os.path.join(HERE, "fake_app"), source_dir)
        # a context value, as `cdk synth -c roster:ses_max_send_rate=3.5` would give (the real
        # app synthesises with the default)
        app = cdk.App(outdir=os.environ["CDK_OUTDIR"], context={"roster:ses_max_send_rate": "3.5"})
        RosterStack(app, "dev", resources=resources, source_dir=source_dir, tracing=True,
                    env=cdk.Environment(region="eu-central-1"))
        app.synth()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
