"""How the product is configured to run against a started sandbox.

The demo, the benchmarks and the tests all point the product at a sandbox the same way: the
app settings an administrator would put in ``local.settings.json`` for a real environment,
with the sandbox's URL, tenant, client, CA and Service Bus namespace filled in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plugins.core.settings import DataverseSettings

if TYPE_CHECKING:
    from .core import Host


def servicebus_connection_string(sandbox: Host) -> str:
    """The sandbox's Service Bus namespace as a connection string (``ServiceBusConnection``)."""
    port = sandbox.base_url.rsplit(":", 1)[1]
    emulator = "" if sandbox.config.https else ";UseDevelopmentEmulator=true"
    return (
        f"Endpoint=sb://{sandbox.config.host}:{port}/servicebus/;"
        f"SharedAccessKeyName=sandbox;SharedAccessKey=sandbox{emulator}"
    )


def dataverse_values(sandbox: Host, **overrides: str) -> dict[str, str]:
    """``DATAVERSE__*`` app settings reaching the sandbox through the msal path."""
    config = sandbox.config
    values = {
        "DATAVERSE__URL": sandbox.base_url,
        "DATAVERSE__TENANT_ID": config.tenant_id,
        "DATAVERSE__CLIENT_ID": config.client_id,
        "DATAVERSE__CLIENT_SECRET": config.client_secret,
        "DATAVERSE__AUTHORITY_HOST": sandbox.base_url,
        "DATAVERSE__CA_BUNDLE": sandbox.ca_file or "",
    }
    values.update({f"DATAVERSE__{k.upper()}": v for k, v in overrides.items()})
    return values


def dataverse_settings(sandbox: Host, **overrides: object) -> DataverseSettings:
    """The same as :func:`dataverse_values`, as the settings model the client takes."""
    config = sandbox.config
    base: dict[str, object] = {
        "url": sandbox.base_url,
        "tenant_id": config.tenant_id,
        "client_id": config.client_id,
        "client_secret": config.client_secret,
        "authority_host": sandbox.base_url,
        "ca_bundle": sandbox.ca_file,
    }
    return DataverseSettings.model_validate({**base, **overrides})
