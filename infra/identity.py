"""Portal sign-in for people (issue 3 §3): a Cognito user pool by default, or any OIDC issuer.

The app verifies ID tokens itself (RS256 against the issuer's JWKS, chalicelib/services/person_tokens.py);
the stack only hands it the issuer, audience and JWKS URL through the environment. Without CDK
context it creates a Cognito user pool (sign-in with e-mail, no self sign-up: the provider
creates portal users) with an immutable `custom:tenant_id` attribute and one app client. With
context `roster:oidc_issuer` (+ `roster:oidc_audience`, optional `roster:oidc_jwks_url`,
`roster:oidc_tenant_claim`, `roster:oidc_tenant_id`) any other issuer is trusted instead, and
no user pool is made.
"""
from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import CfnOutput, RemovalPolicy, Stack, aws_cognito as cognito

TENANT_ATTRIBUTE = "tenant_id"  # the ID token carries it as custom:tenant_id
TENANT_ID_LENGTH = 20  # ten_ + 16 base32 characters


@dataclass
class PortalIdentity:
    environment: dict[str, str]
    user_pool: cognito.UserPool | None = None
    client: cognito.UserPoolClient | None = None


def make_portal_identity(stack: Stack) -> PortalIdentity:
    context = stack.node.try_get_context
    tenant_claim = context("roster:oidc_tenant_claim") or f"custom:{TENANT_ATTRIBUTE}"
    fixed_tenant = context("roster:oidc_tenant_id") or ""
    issuer = context("roster:oidc_issuer")
    if issuer:
        audience = context("roster:oidc_audience")
        if not audience:
            raise ValueError("context roster:oidc_issuer needs roster:oidc_audience (the client id tokens are for)")
        jwks_url = context("roster:oidc_jwks_url") or issuer.rstrip("/") + "/.well-known/jwks.json"
        return PortalIdentity(_environment(issuer, audience, jwks_url, tenant_claim, fixed_tenant))

    pool = cognito.UserPool(
        stack, "PortalUsers",
        sign_in_aliases=cognito.SignInAliases(email=True),
        sign_in_case_sensitive=False,
        self_sign_up_enabled=False,  # the provider creates portal users (with their tenant)
        auto_verify=cognito.AutoVerifiedAttrs(email=True),
        standard_attributes=cognito.StandardAttributes(email=cognito.StandardAttribute(required=True, mutable=True)),
        custom_attributes={TENANT_ATTRIBUTE: cognito.StringAttribute(
            min_len=TENANT_ID_LENGTH, max_len=TENANT_ID_LENGTH, mutable=False)},
        account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
        password_policy=cognito.PasswordPolicy(min_length=12),
        deletion_protection=True,
        removal_policy=RemovalPolicy.RETAIN,
    )
    readable = (cognito.ClientAttributes()
                .with_standard_attributes(email=True, email_verified=True, given_name=True, family_name=True)
                .with_custom_attributes(TENANT_ATTRIBUTE))
    # A user must never change their tenant: the client may write names, not custom:tenant_id.
    writable = cognito.ClientAttributes().with_standard_attributes(given_name=True, family_name=True)
    client = pool.add_client(
        "PortalClient",
        auth_flows=cognito.AuthFlow(user_srp=True),
        generate_secret=False,  # a browser/mobile portal: a public client
        prevent_user_existence_errors=True,
        # The hosted UI (authorization code flow, never implicit) only where the portal's
        # callback URLs are given (context roster:portal_callback_urls); else SRP from the portal.
        **_hosted_ui(stack.node.try_get_context("roster:portal_callback_urls")),
        read_attributes=readable,
        write_attributes=writable,
    )
    issuer = f"https://{pool.user_pool_provider_url}"
    CfnOutput(stack, "PortalUserPoolId", value=pool.user_pool_id)
    CfnOutput(stack, "PortalClientId", value=client.user_pool_client_id)
    CfnOutput(stack, "PortalIssuer", value=issuer)
    return PortalIdentity(_environment(issuer, client.user_pool_client_id, f"{issuer}/.well-known/jwks.json",
                                       tenant_claim, fixed_tenant), pool, client)


def _hosted_ui(callback_urls) -> dict:
    if not callback_urls:
        return {"disable_o_auth": True}
    urls = callback_urls.split(",") if isinstance(callback_urls, str) else list(callback_urls)
    return {"o_auth": cognito.OAuthSettings(
        flows=cognito.OAuthFlows(authorization_code_grant=True),
        scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callback_urls=[u.strip() for u in urls if u.strip()])}


def _environment(issuer: str, audience: str, jwks_url: str, tenant_claim: str, fixed_tenant: str) -> dict[str, str]:
    env = {"ROSTER_OIDC_ISSUER": issuer, "ROSTER_OIDC_AUDIENCE": audience, "ROSTER_OIDC_JWKS_URL": jwks_url,
           "ROSTER_OIDC_TENANT_CLAIM": tenant_claim}
    if fixed_tenant:
        env["ROSTER_OIDC_TENANT_ID"] = fixed_tenant
    return env
