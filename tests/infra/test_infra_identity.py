"""Portal sign-in in the synthesised template: a Cognito user pool by default, whose issuer,
audience and JWKS URL reach the functions; or, by CDK context, any other OIDC issuer."""
from __future__ import annotations

import json
import subprocess

import pytest

from infra import sam
from tests.infra.conftest import INFRA_BIN, REGION, ROOT, infra_python, load_template, offline_env
from tests.infra.infra_checks import env_of

pytestmark = pytest.mark.infra

OIDC_ENV = {"ROSTER_OIDC_ISSUER", "ROSTER_OIDC_AUDIENCE", "ROSTER_OIDC_JWKS_URL", "ROSTER_OIDC_TENANT_CLAIM"}


def _of_type(template: dict, kind: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_a_cognito_user_pool_with_an_immutable_tenant_attribute_by_default(real_synth):
    _, template = load_template(real_synth)
    [(pool_id, pool)] = _of_type(template, "AWS::Cognito::UserPool").items()
    props = pool["Properties"]
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True  # the provider creates users
    assert props["UsernameAttributes"] == ["email"]
    [tenant] = [a for a in props["Schema"] if a["Name"] == "tenant_id"]
    assert tenant["Mutable"] is False and tenant["AttributeDataType"] == "String"
    assert pool["DeletionPolicy"] == "Retain"
    [(client_id, client)] = _of_type(template, "AWS::Cognito::UserPoolClient").items()
    client_props = client["Properties"]
    assert client_props["UserPoolId"] == {"Ref": pool_id}
    assert client_props["GenerateSecret"] is False
    assert "custom:tenant_id" in client_props["ReadAttributes"]
    assert "custom:tenant_id" not in client_props["WriteAttributes"]  # nobody changes their own tenant
    assert "implicit" not in client_props.get("AllowedOAuthFlows", [])


def test_the_issuer_audience_and_jwks_url_reach_the_api_function(real_synth):
    _, template = load_template(real_synth)
    [pool_id] = _of_type(template, "AWS::Cognito::UserPool")
    [client_id] = _of_type(template, "AWS::Cognito::UserPoolClient")
    env = env_of(sam.functions(template)[sam.API_HANDLER])
    assert OIDC_ENV <= set(env)
    assert env["ROSTER_OIDC_AUDIENCE"] == {"Ref": client_id}
    assert env["ROSTER_OIDC_ISSUER"] == {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [pool_id, "ProviderURL"]}]]}
    assert env["ROSTER_OIDC_JWKS_URL"]["Fn::Join"][1][-1] == "/.well-known/jwks.json"
    assert env["ROSTER_OIDC_TENANT_CLAIM"] == "custom:tenant_id"


def test_another_issuer_by_context_replaces_the_user_pool(tmp_path):
    context = {"roster:oidc_issuer": "https://login.example.com/realms/roster",
               "roster:oidc_audience": "roster-portal", "roster:oidc_tenant_claim": "roster_tenant"}
    env = {**offline_env(), "CDK_OUTDIR": str(tmp_path), "CDK_CONTEXT_JSON": json.dumps(context)}
    proc = subprocess.run([infra_python(), "infra/app.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    template = json.loads((tmp_path / "dev.template.json").read_text())
    assert not _of_type(template, "AWS::Cognito::UserPool")
    env_vars = env_of(sam.functions(template)[sam.API_HANDLER])
    assert {k: env_vars[k] for k in OIDC_ENV} == {
        "ROSTER_OIDC_ISSUER": "https://login.example.com/realms/roster", "ROSTER_OIDC_AUDIENCE": "roster-portal",
        "ROSTER_OIDC_JWKS_URL": "https://login.example.com/realms/roster/.well-known/jwks.json",
        "ROSTER_OIDC_TENANT_CLAIM": "roster_tenant"}
    lint = subprocess.run([str(INFRA_BIN / "cfn-lint"), "--regions", REGION, "--", str(tmp_path / "dev.template.json")],
                          env=offline_env(), capture_output=True, text=True, timeout=300)
    assert lint.returncode == 0, lint.stdout + lint.stderr
