"""Fixtures for the local-stack unit tests: one in-process moto server per test session (worker)."""
from __future__ import annotations

import uuid

import pytest

from infra.local_stack import ses_capture
from infra.local_stack.embedded_aws import EmbeddedAws
from infra.local_stack.fake_aws import aws_client


@pytest.fixture(scope="session")
def aws_url():
    """URL of a ThreadedMotoServer on a free port; tests use unique resource names instead of resets."""
    ses_capture.install()
    aws = EmbeddedAws(port=0)
    url = aws.start()
    yield url
    aws.stop()


@pytest.fixture
def sqs(aws_url):
    return aws_client("sqs", aws_url)


@pytest.fixture
def ses(aws_url):
    return aws_client("ses", aws_url)


@pytest.fixture
def unique():
    """A short unique suffix, so tests sharing the session's moto server never see each other's data."""
    return uuid.uuid4().hex[:10]
