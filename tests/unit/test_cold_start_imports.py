"""Cold start: the API function loads only what a request's route uses.

`import app` registers every route; the notice, invitation and mail modules (their domain values,
models, services, repositories, texts) load when a route that uses them runs, not before, and so
do the other models and domain values (a GET /accounts/{id} defines only the account's and the
API key's) and person sign-in. A fresh interpreter checks `sys.modules`: once after `import app`,
once after a GET /accounts/{id} with a tenant API key (on moto in-process), which needs none of
them. No timing here: bench/cold_start.py measures; this keeps what it measured from coming back.
"""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# modules (and packages: anything under them too) a GET /accounts/{id} does not use
NOT_ON_THE_ACCOUNT_PATH = (
    "chalicelib.domain.notices", "chalicelib.domain.invitations", "chalicelib.domain.mail", "chalicelib.mail",
    "chalicelib.pages", "chalicelib.services.notices", "chalicelib.services.notice_delivery",
    "chalicelib.services.invitations", "chalicelib.services.mail", "chalicelib.services.audience",
    "chalicelib.services.preferences", "chalicelib.repositories.notices", "chalicelib.repositories.notice_delivery",
    "chalicelib.repositories.invitations", "chalicelib.repositories.mail", "chalicelib.models.notices",
    "chalicelib.models.invitations", "chalicelib.models.mail", "chalicelib.models.limits", "chalicelib.models.audit",
    "chalicelib.services.person_tokens", "chalicelib.domain.entities", "chalicelib.models.entities", "aws_xray_sdk",
)
# what `import app` alone does not need either: the models and the table come with the first request
NOT_AT_IMPORT = NOT_ON_THE_ACCOUNT_PATH + (
    "chalicelib.domain.entities", "chalicelib.models", "chalicelib.repositories", "chalicelib.services",
    "aws_lambda_powertools",
)

PROBE = """
import json, sys

def loaded(names):
    return sorted(m for m in sys.modules if any(m == n or m.startswith(n + ".") for n in names))

import app
print(json.dumps(loaded(json.loads(sys.argv[1]))))

from types import SimpleNamespace
from moto import mock_aws
from chalice.test import Client
from chalicelib import bootstrap
from chalicelib.services.auth import hash_secret
from chalicelib.resources import MAIN_TABLE, Resources
from infra.local_stack.provisioning import create_resources

with mock_aws():
    create_resources(Resources(tables=(MAIN_TABLE,)), endpoint_url=None)  # the table only
    tenant_id, secret = "ten_abcdefghijklmnop", "0123456789abcdef" * 4
    # the key's item through its repository: the key service would load the domain values first
    bootstrap.get_repositories().api_keys.create(SimpleNamespace(
        key_id="key_abcdefghijklmnop", tenant_id=tenant_id, name="probe", hint="cdef",
        created_at="2026-01-01T00:00:00.000Z", created_by="test"), hash_secret(secret))
    key = f"rk_abcdefghijklmnop_{secret}"
    account = bootstrap.get_account_service().create(tenant_id, {"name": "Muster AG"})
    with Client(app.app) as client:
        response = client.http.get(f"/accounts/{account.account_id}", headers={"authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.body
    assert "chalicelib.services.accounts" in sys.modules
print(json.dumps(loaded(json.loads(sys.argv[2]))))
"""


def _probe() -> tuple[list[str], list[str]]:
    import json

    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "AWS_ACCESS_KEY_ID": "testing",
           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-central-1", "AWS_REGION": "eu-central-1",
           "AWS_EC2_METADATA_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "WARNING",
           "POWERTOOLS_METRICS_DISABLED": "true"}
    result = subprocess.run([sys.executable, "-c", PROBE, json.dumps(NOT_AT_IMPORT), json.dumps(NOT_ON_THE_ACCOUNT_PATH)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr[-4000:]
    at_import, after_request = (json.loads(line) for line in result.stdout.strip().splitlines()[-2:])
    return at_import, after_request


def test_import_app_and_a_get_account_load_no_notice_invitation_or_mail_module():
    at_import, after_request = _probe()
    assert at_import == [], f"loaded by `import app`: {at_import}"
    assert after_request == [], f"loaded by GET /accounts/{{id}}: {after_request}"
