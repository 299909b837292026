"""Composition root: builds every service lazily, on first use, never at import time.

Tests call `reset()` between cases and may `override()` an adapter (clock, SSM client).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from chalicelib.settings import get_settings

_overrides: dict[str, Any] = {}


def override(**adapters: Any) -> None:
    _overrides.update(adapters)
    _clear_caches()


def reset() -> None:
    _overrides.clear()
    get_settings.cache_clear()
    _clear_caches()


def _clear_caches() -> None:
    for builder in _BUILDERS:
        builder.cache_clear()


@lru_cache(maxsize=1)
def get_logger():
    from aws_lambda_powertools import Logger

    return Logger(service="roster-api", use_rfc3339=True)


@lru_cache(maxsize=1)
def get_metrics():
    from aws_lambda_powertools import Metrics

    return Metrics(namespace="Roster", service="roster-api")


@lru_cache(maxsize=1)
def get_tracer():
    """Tracing imports aws_xray_sdk, a large share of a cold start (docs/performance.md): built
    only when ROSTER_TRACING is on."""
    if not get_settings().tracing_enabled:
        return None
    from aws_lambda_powertools import Tracer

    return Tracer(service="roster-api")


@lru_cache(maxsize=1)
def get_clock():
    if "clock" in _overrides:
        return _overrides["clock"]
    from chalicelib.adapters.clock import SystemClock

    return SystemClock()


@lru_cache(maxsize=1)
def get_repositories():
    """Every repository, on one DynamoDB connection: what services read and write through."""
    from chalicelib.repositories.registry import Repositories

    settings = get_settings()
    return Repositories(settings.table_name, settings.region)


@lru_cache(maxsize=1)
def get_platform_key_source():
    if "platform_key_source" in _overrides:
        return _overrides["platform_key_source"]
    from chalicelib.adapters.platform_key import SecretsManagerPlatformKey

    settings = get_settings()
    return SecretsManagerPlatformKey(settings.platform_key_secret, settings.platform_key_max_age_seconds, settings.region)


@lru_cache(maxsize=1)
def get_authenticator():
    from chalicelib.services.auth import Authenticator

    return Authenticator(get_platform_key_source(), get_repositories().api_keys, get_person_tokens)


JWKS_MAX_AGE_SECONDS = 3600
JWKS_MIN_REFETCH_SECONDS = 30  # an unknown kid refetches (key rotation), at most this often
JWKS_TIMEOUT_SECONDS = 3


@lru_cache(maxsize=1)
def get_jwks():
    """The issuer's signing keys: PyJWT's PyJWKClient fetches the JWKS over HTTP(S) and caches it.
    A flood of tokens with made-up kids cannot turn into a flood of fetches (its cooldown).
    Tests serve the JWKS from 127.0.0.1 (infra/local_stack/token_issuer.py JwksServer)."""
    from jwt import PyJWKClient

    return PyJWKClient(get_settings().oidc_jwks_url, lifespan=JWKS_MAX_AGE_SECONDS,
                       cooldown_duration=JWKS_MIN_REFETCH_SECONDS, timeout=JWKS_TIMEOUT_SECONDS)


@lru_cache(maxsize=1)
def get_person_tokens():
    """Person (OIDC) sign-in; None while no issuer is configured. Built on the first JWT only."""
    settings = get_settings()
    if not settings.oidc_issuer or not settings.oidc_jwks_url:
        return None
    from chalicelib.services.person_tokens import OidcConfig, PersonTokens

    config = OidcConfig(settings.oidc_issuer, settings.oidc_audience, settings.oidc_tenant_claim,
                        settings.oidc_tenant_id, settings.oidc_leeway_seconds)
    return PersonTokens(config, get_jwks(), get_repositories().people)


@lru_cache(maxsize=1)
def get_ses_client():
    if "ses_client" in _overrides:
        return _overrides["ses_client"]
    from chalicelib.adapters.ses import ses_client

    return ses_client(get_settings().region)


@lru_cache(maxsize=1)
def get_tenant_service():
    from chalicelib.adapters.ses import SesIdentities
    from chalicelib.services.tenants import TenantService

    return TenantService(get_repositories(), get_clock(), SesIdentities(get_ses_client()), get_settings().mail_domain)


@lru_cache(maxsize=1)
def get_mail_service():
    service = _build_mail_service()
    # an invitation becomes `invited` once SES accepted its mail
    service.on_sent("invitation", lambda *args: get_invitation_service().mark_invited(*args))
    return service


@lru_cache(maxsize=1)
def get_mail_feedback():
    """SES feedback: the router asks the SES message map which pipeline a message belongs to."""
    from chalicelib.services.feedback import FeedbackRouter

    return FeedbackRouter(get_repositories(), get_clock(), get_mail_service, get_notice_delivery, get_logger())


def _build_mail_service():
    import boto3

    from chalicelib.adapters.job_queue import SqsJobQueue
    from chalicelib.adapters.ses import SesMailer
    from chalicelib.services.mail import MailService

    settings = get_settings()
    queue = SqsJobQueue(boto3.client("sqs", region_name=settings.region), settings.mail_queue)
    mailer = SesMailer(get_ses_client(), settings.ses_configuration_set or None)
    return MailService(get_repositories(), get_clock(), mailer, queue, settings.mail_domain,
                       get_logger())


@lru_cache(maxsize=1)
def get_api_key_service():
    from chalicelib.services.api_keys import ApiKeyService

    return ApiKeyService(get_repositories(), get_clock())


@lru_cache(maxsize=1)
def get_account_service():
    from chalicelib.services.accounts import AccountService

    return AccountService(get_repositories(), get_clock())


@lru_cache(maxsize=1)
def get_contact_service():
    from chalicelib.services.contacts import ContactService

    return ContactService(get_repositories(), get_clock(), get_mail_service())


@lru_cache(maxsize=1)
def get_people_service():
    from chalicelib.services.people import PeopleService

    return PeopleService(get_repositories(), get_clock(), get_contact_service())


@lru_cache(maxsize=1)
def get_portal_service():
    from chalicelib.services.portal import PortalService

    # the people and contact services are built on use: the membership check that every person
    # request makes needs neither (the contact service builds the mail queue's SQS client)
    return PortalService(get_repositories(), get_clock(), get_people_service, get_contact_service)


@lru_cache(maxsize=1)
def get_audit_service():
    from chalicelib.services.audit import AuditService

    return AuditService(get_repositories())



@lru_cache(maxsize=1)
def get_mail_limits():
    from chalicelib.services.limits import MailLimits

    settings = get_settings()
    return MailLimits(get_repositories().limits, get_clock(), settings.mail_requests_per_minute,
                      settings.invitation_mails_per_address_per_day, settings.invitation_resend_cooldown_seconds)


@lru_cache(maxsize=1)
def get_invitation_service():
    from chalicelib.services.invitations import InvitationService

    return InvitationService(get_repositories(), get_clock(), get_mail_service(), get_contact_service(),
                             get_settings().public_base_url, get_mail_limits())


@lru_cache(maxsize=1)
def get_preference_service():
    """Notification preferences links and pages; `link()` is called once per notice recipient."""
    from chalicelib.services.preferences import PreferenceService

    return PreferenceService(get_repositories(), get_clock(), get_platform_key_source(), get_portal_service(),
                             get_settings().public_base_url)


@lru_cache(maxsize=1)
def get_notice_service():
    import boto3

    from chalicelib.adapters.job_queue import SqsMessages
    from chalicelib.services.notices import NoticeService

    settings = get_settings()
    fanout = SqsMessages(boto3.client("sqs", region_name=settings.region), settings.notice_fanout_queue)
    return NoticeService(get_repositories(), get_clock(), fanout, get_audience, get_logger())


@lru_cache(maxsize=1)
def get_audience():
    from chalicelib.services.audience import Audience

    return Audience(get_repositories())


@lru_cache(maxsize=1)
def get_notice_delivery():
    """The notice fan-out and the notice batches (each its own queue)."""
    import boto3

    from chalicelib.adapters.job_queue import SqsMessages
    from chalicelib.adapters.ses import SesMailer
    from chalicelib.services.notice_delivery import NoticeDelivery

    settings = get_settings()
    sqs = boto3.client("sqs", region_name=settings.region)
    mailer = SesMailer(get_ses_client(), settings.ses_configuration_set or None)
    return NoticeDelivery(database=get_repositories(), clock=get_clock(), mailer=mailer,
                          mail_queue=SqsMessages(sqs, settings.notice_batch_queue), audience=get_audience(),
                          links=get_preference_service(), logger=get_logger(), mail_domain=settings.mail_domain,
                          max_send_rate=settings.ses_max_send_rate,
                          fanout_queue=SqsMessages(sqs, settings.notice_fanout_queue))


_BUILDERS = (
    get_logger, get_metrics, get_tracer, get_clock, get_repositories, get_platform_key_source, get_ses_client,
    get_mail_service, get_invitation_service, get_notice_service,
    get_authenticator, get_jwks, get_person_tokens, get_tenant_service, get_api_key_service, get_account_service,
    get_contact_service, get_people_service, get_portal_service, get_audit_service, get_preference_service,
    get_audience, get_notice_delivery, get_mail_limits, get_mail_feedback,
)
