"""Shared test setup. The fake AWS environment is set before anything imports botocore."""
import os

for _name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
    os.environ.pop(_name, None)
os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-central-1", "AWS_REGION": "eu-central-1", "AWS_EC2_METADATA_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "roster-api", "POWERTOOLS_METRICS_NAMESPACE": "Roster",
    "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true",
})

import sys  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def stock_moto_after_each_test():
    """Product tests run on stock moto but for one fix Roster's mail outcomes depend on
    (infra/local_stack/ses_bulk_status.py: each bulk destination's Status, as SES answers it).
    The tests of SES feedback install infra/local_stack/ses_feedback.py (docs/local-stack.md,
    "moto patches") themselves; it is taken away after each."""
    from infra.local_stack import ses_bulk_status

    ses_bulk_status.install()
    yield
    feedback = sys.modules.get("infra.local_stack.ses_feedback")
    if feedback is not None and feedback.installed():
        feedback.uninstall()
