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

# The local stack's DynamoDB patches of moto (docs/local-stack.md, "moto at scale"): the same
# answers as moto's own, without its whole-table copies and sorts and its per-value Python walks.
from infra.local_stack import (  # noqa: E402
    moto_expressions, moto_item_size, moto_keys, moto_projection, moto_queries, moto_request_parsing,
    moto_responses, moto_transactions, moto_update_validation,
)

moto_transactions.install()
moto_queries.install()
moto_responses.install()
moto_projection.install()
moto_item_size.install()
moto_keys.install()
moto_request_parsing.install()
moto_expressions.install()
moto_update_validation.install()
