"""A ready ``local.settings.json`` for the local Functions host against a started sandbox.

``member-plugins sandbox`` prints it (or writes it with ``--write-settings PATH``) so that
``member-plugins serve`` runs the product against the sandbox with nothing to fill in: the
Dataverse connection through msal, every registry emulator (URL, the stand-in for a client
certificate, the Navet order id and org number the emulator checks, FS's user, the
Maskinporten key), the Service Bus namespace (plain ``UseDevelopmentEmulator=true`` over
HTTP, none over HTTPS, where the CA is trusted instead), the binding settings, fresh
self-service and tombstone keys, and the port the local host will listen on (Core Tools'
``Host.LocalHttpPort``), so the pages' links can point at it. Secrets in it are the
sandbox's own, never real ones.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, SecretStr

from plugins.core.settings import RegistrySettings

from .product_settings import dataverse_values, servicebus_connection_string

if TYPE_CHECKING:
    from .app import Sandbox

QUEUE = "mp-registration-events"
SWEEP_SCHEDULE = "0 */10 * * * *"
LINK_KEY_ID = "local"
MASKINPORTEN_KEY_FILE = "maskinporten-client.pem"


def registry_settings(sandbox: Sandbox, key_file: Path) -> RegistrySettings:
    """Every emulator of the sandbox, enabled, trusting the sandbox's CA when it has one."""
    registries = sandbox.registries.client_settings(key_file)
    if not sandbox.ca_file:
        return registries
    trusted = {"ca_bundle": sandbox.ca_file}
    return registries.model_copy(update={
        name: getattr(registries, name).model_copy(update=trusted)
        for name in ("ladok", "fs", "navet", "spar", "folkeregisteret")
    })


def local_settings(sandbox: Sandbox, state_dir: Path, host_port: int) -> dict[str, str]:
    """The ``Values`` the local host, listening on ``host_port``, needs against ``sandbox``
    (files go to ``state_dir``)."""
    registries = registry_settings(sandbox, state_dir / MASKINPORTEN_KEY_FILE)
    return {
        "FUNCTIONS_WORKER_RUNTIME": "python",
        **{name: value for name, value in dataverse_values(sandbox).items() if value},
        **flatten("REGISTRIES", registries),
        "REGISTRATION__STUDENT_REGISTRY": "ladok",
        "REGISTRATION__POPULATION_REGISTRY": "navet",
        "REGISTRATION_QUEUE": QUEUE,
        "REGISTRATION_SWEEP_SCHEDULE": SWEEP_SCHEDULE,
        "ServiceBusConnection": servicebus_connection_string(sandbox),
        "SELFSERVICE__LINK_KEYS": json.dumps({LINK_KEY_ID: secrets.token_urlsafe(32)}),
        "SELFSERVICE__LINK_KEY_ID": LINK_KEY_ID,
        "SELFSERVICE__PUBLIC_BASE_URL": f"http://127.0.0.1:{host_port}/api/mypage",
        "SYNC__TOMBSTONE_KEY": secrets.token_urlsafe(32),
    }


def local_settings_document(values: dict[str, str], host_port: int) -> str:
    """``local.settings.json`` text holding ``values`` and the host's HTTP port."""
    document = {"IsEncrypted": False, "Values": values, "Host": {"LocalHttpPort": host_port}}
    return json.dumps(document, indent=2) + "\n"


def flatten(prefix: str, model: BaseModel) -> dict[str, str]:
    """The values set in a settings model, as app settings (``PREFIX__FIELD__SUB``)."""
    found: dict[str, str] = {}
    for name in type(model).model_fields:
        if name not in model.model_fields_set:
            continue
        value: Any = getattr(model, name)
        key = f"{prefix}__{name.upper()}"
        if isinstance(value, BaseModel):
            found.update(flatten(key, value))
        elif isinstance(value, SecretStr):
            found[key] = value.get_secret_value()
        elif isinstance(value, dict):
            if value:
                found[key] = json.dumps(value)
        elif isinstance(value, bool):
            found[key] = "true" if value else "false"
        elif value is not None and value != "":
            found[key] = str(value)
    return found
