"""The local stack installs its moto patches when it starts moto (EmbeddedAws.start)."""
from __future__ import annotations

import subprocess
import sys


def test_starting_the_embedded_aws_installs_every_moto_patch():
    """In a fresh interpreter: the test suite installs some of them itself (tests/conftest.py)."""
    code = ("from infra.local_stack import moto_dispatch, moto_item_size, moto_projection, moto_queries, moto_responses, moto_sqs, moto_transactions\n"
            "from infra.local_stack import moto_expressions\n"
            "from infra.local_stack import moto_request_parsing\n"
            "from infra.local_stack.embedded_aws import EmbeddedAws\n"
            "patches = (moto_transactions, moto_queries, moto_sqs, moto_responses, moto_dispatch, moto_projection, moto_item_size, moto_expressions)\n"
            "patches += (moto_request_parsing,)\n"
            "from infra.local_stack import moto_ses_bulk\n"
            "patches += (moto_ses_bulk,)\n"
            "from infra.local_stack import moto_keys\n"
            "patches += (moto_keys,)\n"
            "from infra.local_stack import moto_update_validation\n"
            "patches += (moto_update_validation,)\n"
            "assert not any(p.installed() for p in patches)\n"
            "aws = EmbeddedAws(port=0); aws.start()\n"
            "print(all(p.installed() for p in patches)); aws.stop()\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "True"
