"""The self-service pages' test environment: an HTTPS sandbox (msal needs TLS) with seeded
people and its OpenID Connect provider, and the local Functions host running the product's
``function_app.py``. Shared by the integration and the browser tests.

The app's other triggers (queues, timers of other plugins) get settings that keep them idle:
a queue nobody writes to and a schedule that never comes during a test.
"""

from __future__ import annotations

import html
import json
import os
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import WebApiSession

from sandbox.app import Sandbox
from sandbox.config import SandboxConfig
from sandbox.host import LocalHost
from sandbox.host.loader import load_app
from sandbox.oidc import OidcUser
from sandbox.product_settings import dataverse_values, servicebus_connection_string

ROOT = Path(__file__).resolve().parents[1]
FUNCTION_APP = ROOT / "function_app.py"
CA_BUNDLE = "REQUESTS_CA_BUNDLE"
LINK_KEY_ID = "2024a"
LINK_KEY = "self-service-test-key-0123456789-abcdef"
OIDC_CLIENT_ID = "mypage"
OIDC_CLIENT_SECRET = "mypage-secret"
IDLE_SCHEDULE = "0 0 0 1 1 *"
_SETTING = re.compile(r"%([^%]+)%")

BO_ID = "11111111-1111-4111-8111-111111111111"
SEED: dict[str, Any] = {
    "rows": {
        "contact": [
            {
                "contactid": BO_ID,
                "firstname": "Bo",
                "lastname": "Ek",
                "emailaddress1": "Bo.Ek@example.se",
                "telephone1": "+46701234567",
                "mp_nationalid": "199001011239",
                "mp_topics": "100000000",
                "mp_channels": "100000000,100000001",
                "mp_consentversion": "1",
            },
            {"firstname": "Sam", "lastname": "One", "emailaddress1": "shared@example.se"},
            {"firstname": "Sam", "lastname": "Two", "emailaddress2": "shared@example.se"},
        ]
    }
}
OIDC_USER = OidcUser(
    sub="linkedin-4711", given_name="Åsa", family_name="Öberg", email="asa.oberg@example.no"
)


@dataclass
class SelfServiceEnv:
    """A running sandbox and host, and ways to look at what the pages wrote."""

    sandbox: Sandbox
    host: LocalHost
    dv: WebApiSession

    @property
    def base(self) -> str:
        """The pages' URL (``.../api/mypage``)."""
        return f"{self.host.base_url}/api/mypage"

    def rows(self, entity_set: str, filter_: str | None = None) -> list[dict[str, Any]]:
        """Rows of a table, read through the Web API."""
        query = f"?$filter={filter_}" if filter_ else ""
        answer = self.dv.get(f"{entity_set}{query}")
        assert answer.status_code == 200, answer.text
        return list(answer.json()["value"])

    def registrations(self, email: str) -> list[dict[str, Any]]:
        """Registration rows with this e-mail."""
        return self.rows("mp_registrations", f"mp_email eq '{email}'")

    def emails_to(self, contact_id: str) -> list[dict[str, Any]]:
        """E-mail activities regarding a contact."""
        return self.rows("emails", f"_regardingobjectid_value eq {contact_id}")

    def email_ids(self, contact_id: str) -> set[str]:
        """The ids of the e-mails to a contact so far."""
        return {row["activityid"] for row in self.emails_to(contact_id)}

    def new_link(self, contact_id: str, seen: set[str]) -> str:
        """The link in the one e-mail to a contact that is not among ``seen``."""
        [email] = [row for row in self.emails_to(contact_id) if row["activityid"] not in seen]
        match = re.search(r'<a href="([^"]+)"', email["description"])
        assert match is not None, "no link in the e-mail"
        return html.unescape(match.group(1))


def idle_trigger_settings(connection: str) -> dict[str, str]:
    """Values for every ``%SETTING%`` and connection the app's non-HTTP triggers name."""
    values: dict[str, str] = {}
    for entry in load_app(str(FUNCTION_APP)).functions.values():
        binding = entry.binding
        for name in _SETTING.findall(str(binding.get("schedule", ""))):
            values[name] = IDLE_SCHEDULE
        for name in _SETTING.findall(str(binding.get("queueName", ""))):
            values[name] = f"idle-{name.lower().replace('_', '-')}"
        if binding.get("connection"):
            values[str(binding["connection"])] = connection
    return values


def free_port() -> int:
    """A loopback port nothing listens on now (for a host whose URL settings must name)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def app_settings(sandbox: Sandbox, port: int, **overrides: str) -> dict[str, str]:
    """The app settings of the pages against ``sandbox``, served on ``port``."""
    settings = {
        **idle_trigger_settings(servicebus_connection_string(sandbox)),
        **dataverse_values(sandbox, max_attempts="2", retry_backoff_seconds="0.05"),
        "SELFSERVICE__ORGANISATION_NAME": "Nordic University Alumni",
        "SELFSERVICE__LINK_KEYS": json.dumps({LINK_KEY_ID: LINK_KEY}),
        "SELFSERVICE__LINK_KEY_ID": LINK_KEY_ID,
        "SELFSERVICE__PUBLIC_BASE_URL": f"http://127.0.0.1:{port}/api/mypage",
        "SELFSERVICE__LINK_REQUEST_MIN_SECONDS": "0",
        # The tests' browsers play a trusted front end (as Front Door would) naming their
        # own address; the host appends the socket's, as App Service's front end does.
        "SELFSERVICE__TRUSTED_PROXY_HOPS": "2",
        "SELFSERVICE__CONSENT_VERSION": "1",
        "SELFSERVICE__OIDC": json.dumps(
            {
                "issuer": sandbox.oidc.issuer,
                "client_id": OIDC_CLIENT_ID,
                "client_secret": OIDC_CLIENT_SECRET,
                "display_name": "LinkedIn",
            }
        ),
    }
    settings.update(overrides)
    return settings


@contextmanager
def selfservice_env(tmp: Path, **overrides: str) -> Iterator[SelfServiceEnv]:
    """Start the sandbox and the host with the pages' settings (plus ``overrides``)."""
    sandbox = Sandbox(SandboxConfig(https=True, state_dir=str(tmp)), seed=SEED).start()
    dv = WebApiSession(sandbox)
    host: LocalHost | None = None
    # The OpenID Connect client trusts REQUESTS_CA_BUNDLE, which this machine already sets
    # (so an app setting cannot): point it at the sandbox.
    bundle = os.environ.get(CA_BUNDLE)
    os.environ[CA_BUNDLE] = sandbox.ca_file or ""
    try:
        port = free_port()
        host = LocalHost(
            str(FUNCTION_APP), port=port, settings=app_settings(sandbox, port, **overrides),
            servicebus_poll_seconds=5, servicebus_ca_bundle=sandbox.ca_file,
        ).start()
        sandbox.oidc.register_client(
            OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, f"{host.base_url}/api/mypage/signin/callback",
            f"{host.base_url}/api/mypage/account-signin/callback",
        )
        sandbox.oidc.add_user(OIDC_USER)
        yield SelfServiceEnv(sandbox=sandbox, host=host, dv=dv)
    finally:
        if host is not None:
            host.stop()
        if bundle is None:
            os.environ.pop(CA_BUNDLE, None)
        else:
            os.environ[CA_BUNDLE] = bundle
        dv.close()
        sandbox.stop()
