"""The fake AWS identity of the local stack: one region, fake credentials, one endpoint.

Set before any botocore client exists, so nothing can reach real AWS (DESIGN.md, pitfalls).
"""
from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any, MutableMapping

REGION = "eu-central-1"
ACCOUNT_ID = "123456789012"  # moto's default account for any fake access key
_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}
_REMOVED = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")


def apply_fake_aws_environment(environ: MutableMapping[str, str], endpoint_url: str | None = None,
                               dynamodb_url: str | None = None) -> None:
    """Points every AWS SDK in this process at fake credentials, REGION and (if given) the endpoint,
    and DynamoDB's clients at `dynamodb_url` (if given; botocore's per-service endpoint)."""
    for name in _REMOVED:
        environ.pop(name, None)
    environ.update(_CREDENTIALS)
    environ.update({"AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION, "AWS_EC2_METADATA_DISABLED": "true"})
    if endpoint_url:
        environ["AWS_ENDPOINT_URL"] = endpoint_url
    if dynamodb_url:
        environ["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb_url
    for name in ("NO_PROXY", "no_proxy"):  # a proxy from the shell must not see local traffic
        hosts = [host for host in environ.get(name, "").split(",") if host]
        environ[name] = ",".join(dict.fromkeys(hosts + ["127.0.0.1", "localhost"]))


def aws_client(service: str, endpoint_url: str | None, region: str = REGION) -> Any:
    """A boto3 client for the embedded AWS, independent of the process environment."""
    with _session_lock:
        return _session(region).client(service, endpoint_url=endpoint_url)


_session_lock = threading.Lock()  # creating clients from one session is not thread-safe


@lru_cache(maxsize=None)
def _session(region: str) -> Any:
    import boto3

    # One session per region: it caches the service models, which makes clients cheap to create.
    return boto3.session.Session(
        aws_access_key_id=_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=_CREDENTIALS["AWS_SESSION_TOKEN"],
        region_name=region,
    )
