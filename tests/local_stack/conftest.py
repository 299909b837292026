"""Fixtures for the local-stack unit tests: one in-process moto server per test session (worker)."""
from __future__ import annotations

import uuid

import pytest

from infra.local_stack import moto_transactions, ses_bulk_status, ses_capture, ses_feedback
from infra.local_stack.embedded_aws import EmbeddedAws
from infra.local_stack.fake_aws import aws_client


def moto_with(patch, installed: bool):
    """For a fixture: moto with or without `patch` (a module of infra/local_stack with install,
    uninstall and installed) during the test, as it was afterwards."""
    was_installed = patch.installed()
    patch.install() if installed else patch.uninstall()
    yield
    patch.install() if was_installed else patch.uninstall()


@pytest.fixture(scope="package", autouse=True)
def stock_moto_after_these_tests():
    """The embedded moto and the stacks these tests start patch moto in this process: the tests
    run after them (tests/unit) get stock moto again."""
    yield
    for patch in (moto_transactions, ses_capture, ses_feedback, ses_bulk_status):
        patch.uninstall()


@pytest.fixture(scope="package")
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
