"""The sandbox's Entra ID token endpoint and the Web API's bearer check, over real HTTP."""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import jwt
import msal
import pytest
import requests
from client_certificate import Certificate, new_certificate

from sandbox import auth
from sandbox.app import Sandbox
from sandbox.auth import JWT_BEARER
from sandbox.config import SandboxConfig
from sandbox.store import ChangeEvent
from sandbox.webapi.context import API_PATH

if TYPE_CHECKING:
    from conftest import WebApiSession

OTHER_CLIENT_ID = "00000000-0000-4000-8000-00000000beef"


@pytest.fixture(scope="module")
def registered_certificate() -> Certificate:
    return new_certificate("member-plugins client")


@pytest.fixture(scope="module")
def unregistered_certificate() -> Certificate:
    return new_certificate("somebody else")


@pytest.fixture
def cert_sandbox(tmp_path: Path, registered_certificate: Certificate) -> Iterator[Sandbox]:
    """An https sandbox whose app registration holds ``registered_certificate``."""
    config = SandboxConfig(
        https=True,
        state_dir=str(tmp_path),
        client_certificates=(registered_certificate.cert_pem,),
    )
    instance = Sandbox(config).start()
    try:
        yield instance
    finally:
        instance.stop()


def _msal_app(sandbox: Sandbox, credential: object, tenant: str | None = None):
    """The MSAL options that work against the sandbox (see the module's final report)."""
    http = requests.Session()
    # REQUESTS_CA_BUNDLE would override the session's verify; the sandbox CA must win.
    http.trust_env = False
    http.verify = sandbox.ca_file
    return msal.ConfidentialClientApplication(
        sandbox.config.client_id,
        client_credential=credential,
        authority=f"{sandbox.base_url}/{tenant or sandbox.config.tenant_id}",
        instance_discovery=False,
        http_client=http,
    )


def _contacts(sandbox: Sandbox, token: str | None, **kwargs: object) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(
        f"{sandbox.base_url}{API_PATH}contacts",
        headers=headers,
        verify=sandbox.ca_file or True,
        timeout=10,
        **kwargs,  # type: ignore[arg-type]
    )


def _token_request(sandbox: Sandbox, tenant: str | None = None, **form: str) -> requests.Response:
    config = sandbox.config
    data = {
        "grant_type": "client_credentials",
        "client_id": config.client_id,
        "client_secret": config.client_secret,
        "scope": f"{sandbox.base_url}/.default",
        **form,
    }
    return requests.post(
        f"{sandbox.base_url}/{tenant or config.tenant_id}/oauth2/v2.0/token",
        data={k: v for k, v in data.items() if v},
        headers={"client-request-id": "6f1c6a5e-1111-4222-8333-944445555666"},
        timeout=10,
    )


# ------------------------------------------------------------------ bearer check


def test_valid_token_is_accepted(sandbox: Sandbox) -> None:
    assert _contacts(sandbox, sandbox.auth.issue_token()).status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer ", "Bearer not-a-jwt", "Basic c2FuZGJveDpzZWNyZXQ=", "Bearer a.b.c"],
)
def test_missing_or_malformed_bearer_is_401(sandbox: Sandbox, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = requests.get(f"{sandbox.base_url}{API_PATH}contacts", headers=headers, timeout=10)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "0x80072560"
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert f"authorization_uri={sandbox.auth.authority}/oauth2/authorize" in challenge
    assert f"resource_id={sandbox.base_url}/" in challenge


def test_expired_token_is_401(sandbox: Sandbox) -> None:
    response = _contacts(sandbox, sandbox.auth.issue_token(lifetime_seconds=-1))

    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def test_token_that_expires_while_in_use_is_401(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = sandbox.auth.issue_token(lifetime_seconds=60)
    assert _contacts(sandbox, token).status_code == 200

    later = time.time() + 61
    monkeypatch.setattr(auth, "time", SimpleNamespace(time=lambda: later))

    assert _contacts(sandbox, token).status_code == 401


def test_token_of_another_environment_is_401(sandbox: Sandbox) -> None:
    with Sandbox(SandboxConfig()) as other:
        foreign = other.auth.issue_token()

    assert _contacts(sandbox, foreign).status_code == 401


def test_rotated_signing_key_invalidates_outstanding_tokens(sandbox: Sandbox) -> None:
    old = sandbox.auth.issue_token()
    sandbox.auth.rotate_signing_key()

    assert _contacts(sandbox, old).status_code == 401
    assert _contacts(sandbox, sandbox.auth.issue_token()).status_code == 200


def test_token_of_an_app_without_application_user_is_403(sandbox: Sandbox) -> None:
    response = _contacts(sandbox, sandbox.auth.issue_token(client_id=OTHER_CLIENT_ID))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "0x80072560"


def test_application_user_row_matches_token(dv: WebApiSession) -> None:
    auth = dv.sandbox.auth
    user = dv.get(f"systemusers({auth.application_user_id})").json()
    claims = jwt.decode(auth.issue_token(), options={"verify_signature": False})

    assert user["applicationid"] == dv.sandbox.config.client_id
    assert user["fullname"] == "# member-plugins"
    assert user["azureactivedirectoryobjectid"] == claims["oid"]


class _Recorder:
    """A store listener that keeps the events of committed transactions."""

    def __init__(self) -> None:
        self.events: list[ChangeEvent] = []
        self.lock = threading.Lock()

    def before_commit(self, events: list[ChangeEvent]) -> None:
        return None

    def after_commit(self, events: list[ChangeEvent]) -> None:
        with self.lock:
            self.events.extend(events)


def test_caller_carries_application_user_and_request_context(dv: WebApiSession) -> None:
    recorder = _Recorder()
    dv.sandbox.store.listeners.append(recorder)
    headers = {
        "x-ms-correlation-request-id": "11111111-2222-4333-8444-555555555555",
        "x-ms-client-request-id": "99999999-2222-4333-8444-555555555555",
        "User-Agent": "member-plugins-test/1.0",
    }

    response = dv.post("contacts?tag=member-plugins", json={"lastname": "Caller"}, headers=headers)

    assert response.status_code == 204
    (event,) = recorder.events
    assert event.caller.user_id == dv.sandbox.auth.application_user_id
    assert event.caller.tag == "member-plugins"
    assert event.caller.correlation_id == headers["x-ms-correlation-request-id"]
    assert event.caller.request_id == headers["x-ms-client-request-id"]
    assert event.caller.user_agent == "member-plugins-test/1.0"


# ---------------------------------------------------------------- token endpoint


def test_client_secret_grant_issues_a_dataverse_token(sandbox: Sandbox) -> None:
    response = _token_request(sandbox)

    body = response.json()
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("no-store")
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == body["ext_expires_in"] == sandbox.config.token_lifetime_seconds
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    tenant = sandbox.config.tenant_id
    assert claims["aud"] == sandbox.base_url
    assert claims["iss"] == f"https://sts.windows.net/{tenant}/"
    assert claims["tid"] == tenant
    assert claims["appid"] == sandbox.config.client_id
    assert claims["exp"] - claims["iat"] == sandbox.config.token_lifetime_seconds
    assert _contacts(sandbox, body["access_token"]).status_code == 200


def test_scope_with_the_resource_trailing_slash_is_accepted(sandbox: Sandbox) -> None:
    assert _token_request(sandbox, scope=f"{sandbox.base_url}//.default").status_code == 200


@pytest.mark.parametrize(
    ("override", "status", "error", "code"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client", 7000215),
        ({"client_id": OTHER_CLIENT_ID}, 400, "unauthorized_client", 700016),
        ({"tenant": "11111111-0000-4000-8000-000000000000"}, 400, "invalid_request", 90002),
        ({"scope": "https://other.crm4.dynamics.com/.default"}, 400, "invalid_scope", 70011),
        ({"scope": "user_impersonation"}, 400, "invalid_scope", 70011),
        ({"scope": ""}, 400, "invalid_request", 900144),
        ({"grant_type": "password"}, 400, "unsupported_grant_type", 70003),
        ({"client_secret": ""}, 401, "invalid_client", 7000216),
    ],
)
def test_token_errors_are_answered_like_entra(
    sandbox: Sandbox, override: dict[str, str], status: int, error: str, code: int
) -> None:
    form = dict(override)
    response = _token_request(sandbox, form.pop("tenant", None), **form)

    body = response.json()
    assert response.status_code == status
    assert body["error"] == error
    assert body["error_codes"] == [code]
    assert body["error_description"].startswith(f"AADSTS{code}: ")
    assert f"Trace ID: {body['trace_id']}" in body["error_description"]
    assert body["correlation_id"] == "6f1c6a5e-1111-4222-8333-944445555666"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", body["timestamp"])
    assert "access_token" not in body


def test_openid_configuration_describes_the_tenant(sandbox: Sandbox) -> None:
    authority = sandbox.auth.authority
    response = requests.get(f"{authority}/v2.0/.well-known/openid-configuration", timeout=10)

    config = response.json()
    assert response.status_code == 200
    assert config["token_endpoint"] == f"{authority}/oauth2/v2.0/token"
    assert config["authorization_endpoint"] == f"{authority}/oauth2/v2.0/authorize"
    assert config["issuer"] == f"{authority}/v2.0"
    assert "private_key_jwt" in config["token_endpoint_auth_methods_supported"]
    keys = requests.get(config["jwks_uri"], timeout=10).json()["keys"]
    token = sandbox.auth.issue_token()
    (jwk,) = [k for k in keys if k["kid"] == jwt.get_unverified_header(token)["kid"]]
    claims = jwt.decode(
        token, jwt.PyJWK(jwk).key, algorithms=[jwk["alg"]], audience=sandbox.base_url
    )
    assert claims["appid"] == sandbox.config.client_id


def test_openid_configuration_of_unknown_tenant_is_90002(sandbox: Sandbox) -> None:
    response = requests.get(
        f"{sandbox.base_url}/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration",
        timeout=10,
    )

    assert response.status_code == 400
    assert response.json()["error_codes"] == [90002]


def test_unknown_paths_outside_entra_stay_404(sandbox: Sandbox) -> None:
    response = requests.get(f"{sandbox.base_url}/nothing/here", timeout=10)

    assert response.status_code == 404
    assert "No HTTP resource was found" in response.json()["error"]["message"]


# ---------------------------------------------------------------------- MSAL


def test_msal_client_secret_token_reads_the_web_api(https_sandbox: Sandbox) -> None:
    app = _msal_app(https_sandbox, https_sandbox.config.client_secret)

    result = app.acquire_token_for_client([f"{https_sandbox.base_url}/.default"])

    assert result.get("token_type") == "Bearer", result
    assert _contacts(https_sandbox, result["access_token"]).status_code == 200
    cached = app.acquire_token_for_client([f"{https_sandbox.base_url}/.default"])
    assert cached["token_source"] == "cache"


def test_msal_wrong_secret_fails_as_entra_fails_it(https_sandbox: Sandbox) -> None:
    app = _msal_app(https_sandbox, "not-the-secret")

    result = app.acquire_token_for_client([f"{https_sandbox.base_url}/.default"])

    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [7000215]
    assert "access_token" not in result


def test_msal_unknown_tenant_fails_tenant_discovery(https_sandbox: Sandbox) -> None:
    with pytest.raises(ValueError, match="Unable to get authority configuration") as raised:
        _msal_app(https_sandbox, "x", tenant="22222222-0000-4000-8000-000000000000")

    assert "AADSTS90002" in str(raised.value.__context__)


@pytest.mark.parametrize("thumbprint", ["sha256-from-certificate", "sha1"])
def test_msal_certificate_credential(
    cert_sandbox: Sandbox, registered_certificate: Certificate, thumbprint: str
) -> None:
    credential = {"private_key": registered_certificate.key_pem}
    if thumbprint == "sha1":
        credential["thumbprint"] = registered_certificate.sha1
    else:
        credential["public_certificate"] = registered_certificate.cert_pem
    app = _msal_app(cert_sandbox, credential)

    result = app.acquire_token_for_client([f"{cert_sandbox.base_url}/.default"])

    assert result.get("token_type") == "Bearer", result
    claims = jwt.decode(result["access_token"], options={"verify_signature": False})
    assert claims["appidacr"] == "2"
    assert _contacts(cert_sandbox, result["access_token"]).status_code == 200


def test_msal_unregistered_certificate_is_rejected(
    cert_sandbox: Sandbox, unregistered_certificate: Certificate
) -> None:
    app = _msal_app(
        cert_sandbox,
        {
            "private_key": unregistered_certificate.key_pem,
            "public_certificate": unregistered_certificate.cert_pem,
        },
    )

    result = app.acquire_token_for_client([f"{cert_sandbox.base_url}/.default"])

    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [700027]


def test_assertion_signed_by_another_key_with_registered_thumbprint_is_rejected(
    cert_sandbox: Sandbox,
    registered_certificate: Certificate,
    unregistered_certificate: Certificate,
) -> None:
    app = _msal_app(
        cert_sandbox,
        {
            "private_key": unregistered_certificate.key_pem,
            "thumbprint": registered_certificate.sha1,
        },
    )

    result = app.acquire_token_for_client([f"{cert_sandbox.base_url}/.default"])

    assert result["error"] == "invalid_client"
    assert result["error_codes"] == [700027]


def _assertion(
    sandbox: Sandbox, certificate: Certificate, claims: dict[str, object]
) -> dict[str, str]:
    """A hand-made client assertion (RS256, SHA-1 ``x5t``) with ``claims`` overriding."""
    token_endpoint = f"{sandbox.auth.authority}/oauth2/v2.0/token"
    client_id = sandbox.config.client_id
    now = int(time.time())
    payload = {
        "aud": token_endpoint,
        "iss": client_id,
        "sub": client_id,
        "jti": "1",
        "nbf": now,
        "exp": now + 600,
        **claims,
    }
    x5t = base64.urlsafe_b64encode(bytes.fromhex(certificate.sha1)).decode()
    signed = jwt.encode(
        payload, certificate.key_pem, algorithm="RS256", headers={"x5t": x5t}
    )
    return {"client_secret": "", "client_assertion": signed, "client_assertion_type": JWT_BEARER}


@pytest.mark.parametrize(
    ("claims", "assertion_type", "status", "code"),
    [
        ({}, JWT_BEARER, 200, None),
        ({"exp": int(time.time()) - 60}, JWT_BEARER, 401, 700024),
        ({"aud": "https://login.microsoftonline.com/x/oauth2/v2.0/token"}, JWT_BEARER, 401, 50027),
        ({"iss": OTHER_CLIENT_ID, "sub": OTHER_CLIENT_ID}, JWT_BEARER, 401, 700021),
        ({}, "urn:ietf:params:oauth:client-assertion-type:saml2-bearer", 400, 50027),
    ],
)
def test_client_assertion_claims_are_checked(
    cert_sandbox: Sandbox,
    registered_certificate: Certificate,
    claims: dict[str, object],
    assertion_type: str,
    status: int,
    code: int | None,
) -> None:
    form = _assertion(cert_sandbox, registered_certificate, claims)
    form["client_assertion_type"] = assertion_type

    response = requests.post(
        f"{cert_sandbox.auth.authority}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": cert_sandbox.config.client_id,
            "scope": f"{cert_sandbox.base_url}/.default",
            **{k: v for k, v in form.items() if v},
        },
        verify=cert_sandbox.ca_file,
        timeout=10,
    )

    assert response.status_code == status
    assert response.json().get("error_codes") == ([code] if code else None)

