"""The health check: Dataverse settings, a token, one cheap Dataverse call (``WhoAmI``),
then each plugin's configuration.

Each check reports whether it passed, why not, and how long it took. A check runs only when
the one before passed (no token without settings, no Dataverse call without a token); the
rest are reported as skipped. The plugin checks (``registration``, ``selfservice``,
``sync``) each validate that plugin's settings groups on their own and say what is
configured (for the pages: the link keys by id and the public base URL), so a bad value
is reported against the plugin it stops. Details name settings and reasons, never values
of secrets. Settings are read afresh on every call, so a fixed app setting shows up at the
next probe.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from plugins.admin.errors import auth_reason, connection_reason, one_line
from plugins.core.logging import log_context
from plugins.core.settings import DataverseSettings, Settings
from plugins.core.settings_groups import SettingsError, load_group, load_plugin
from plugins.dataverse.auth import TokenProvider, token_provider_for
from plugins.dataverse.client import DataverseClient
from plugins.dataverse.errors import AuthenticationError, ResponseError, TransportError

log = logging.getLogger(__name__)

_SETTING_NAME = re.compile(r"\b[A-Z][A-Z0-9]*__[A-Z0-9_]+\b")
# A probe must answer within a load balancer's patience: one attempt, a short timeout.
PROBE_LIMITS = {"max_attempts": 1, "retry_budget_seconds": 0.0, "request_timeout_seconds": 10.0}


class CheckFailed(Exception):
    """A check did not pass; ``str()`` is the detail to report."""


@dataclass(frozen=True)
class Check:
    """The outcome of one check."""

    name: str
    ok: bool
    detail: str
    duration_ms: float


@dataclass(frozen=True)
class HealthReport:
    """Every check, in order."""

    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        """Whether every check passed."""
        return all(check.ok for check in self.checks)

    def as_dict(self) -> dict[str, Any]:
        """``{"status": "ok"|"failing", "failing": [names], "checks": [{"name", "ok", "detail",
        "duration_ms"}]}``."""
        return {
            "status": "ok" if self.ok else "failing",
            "failing": [check.name for check in self.checks if not check.ok],
            "checks": [
                {"name": c.name, "ok": c.ok, "detail": c.detail, "duration_ms": c.duration_ms}
                for c in self.checks
            ],
        }


def check_health() -> HealthReport:
    """Run the checks against the current app settings."""
    settings_check, dataverse = _run("settings", _settings)
    checks = [settings_check]
    tokens: TokenProvider | None = None
    if dataverse is not None:
        token_check, tokens = _run("token", lambda: _token(dataverse))
        checks.append(token_check)
    else:
        checks.append(_skipped("token", "settings"))
    if dataverse is not None and tokens is not None:
        checks.append(_run("dataverse", lambda: _who_am_i(dataverse, tokens))[0])
    else:
        checks.append(_skipped("dataverse", "token" if dataverse is not None else "settings"))
    checks += [_run(name, plugin)[0] for name, plugin in PLUGIN_CHECKS.items()]
    report = HealthReport(tuple(checks))
    failed = [check.name for check in report.checks if not check.ok]
    with log_context(outcome="ok" if report.ok else "failing"):
        log.info("health check: %s", f"failing at {failed[0]}" if failed else "ok")
    return report


def _settings() -> tuple[str, DataverseSettings]:
    dataverse: DataverseSettings = _load(lambda: load_group("dataverse"))
    problems = _missing(dataverse)
    if problems:
        raise CheckFailed("; ".join(problems))
    return f"Dataverse {dataverse.url}, {dataverse.auth_method} credential", dataverse


def _setting_names(error: Any) -> list[str]:
    """The settings a validation error is about: those its message names (a check across
    several fields of a group), else the one its location names."""
    named = _SETTING_NAME.findall(str(error.get("msg", "")))
    return named or ["__".join(str(p) for p in error["loc"]).upper()]


def _missing(settings: DataverseSettings) -> list[str]:
    """What keeps these settings from working, by setting name."""
    problems: list[str] = []
    url = urlsplit(settings.url)
    if not settings.url:
        problems.append("DATAVERSE__URL is not set")
    elif url.scheme != "https" or not url.hostname:
        problems.append("DATAVERSE__URL must be an https URL")
    if settings.auth_method == "managed_identity":
        return problems
    required = {
        "DATAVERSE__TENANT_ID": settings.tenant_id,
        "DATAVERSE__CLIENT_ID": settings.client_id,
    }
    if settings.auth_method == "secret":
        secret = settings.client_secret.get_secret_value() if settings.client_secret else ""
        required["DATAVERSE__CLIENT_SECRET"] = secret
    else:
        required["DATAVERSE__CERTIFICATE_PATH"] = settings.certificate_path or ""
    problems += [f"{name} is not set" for name, value in required.items() if not value]
    path = settings.certificate_path
    if settings.auth_method == "certificate" and path and not Path(path).is_file():
        problems.append("DATAVERSE__CERTIFICATE_PATH names no file")
    return problems


def _load(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except SettingsError as exc:
        raise CheckFailed(str(exc)) from exc


def _registration() -> tuple[str, None]:
    settings: Settings = _load(lambda: load_plugin("registration"))
    registration = settings.registration
    registries = settings.registries
    for kind, name in (("student", registration.student_registry),
                       ("population", registration.population_registry)):
        if name != "none" and not getattr(registries, name).enabled:
            raise CheckFailed(
                f"REGISTRATION__{kind.upper()}_REGISTRY is {name}, but "
                f"REGISTRIES__{name.upper()}__ENABLED is not true"
            )
    return (
        f"queue {registration.queue}, sweep '{registration.sweep_schedule}', "
        f"registries {registration.student_registry}/{registration.population_registry}, "
        f"alumni rule: {registration.alumni_rule.describe()}"
    ), None


def _selfservice() -> tuple[str, None]:
    selfservice = _load(lambda: load_plugin("selfservice")).selfservice
    if not selfservice.link_keys:
        raise CheckFailed("SELFSERVICE__LINK_KEYS and SELFSERVICE__LINK_KEY_ID are not set")
    others = sorted(set(selfservice.link_keys) - {selfservice.link_key_id})
    keys = f"link key {selfservice.link_key_id} signs" + (
        f", {', '.join(others)} verify" if others else ""
    )
    base = selfservice.public_base_url or "not set (links use the request's host name)"
    return f"{keys}; public base URL {base}", None


def _sync() -> tuple[str, None]:
    sync = _load(lambda: load_plugin("sync")).sync
    jobs = {"upkeep": sync.upkeep.enabled, "graduates": sync.graduates.enabled,
            "lifecycle": sync.lifecycle.enabled, "follow-ups": sync.follow_ups.enabled}
    on = [name for name, enabled in jobs.items() if enabled]
    return f"on: {', '.join(on) or 'none'}; delivery {sync.delivery.mode}", None


PLUGIN_CHECKS: dict[str, Callable[[], tuple[str, Any]]] = {
    "registration": _registration,
    "selfservice": _selfservice,
    "sync": _sync,
}


def _token(settings: DataverseSettings) -> tuple[str, TokenProvider]:
    tokens = token_provider_for(settings)
    try:
        tokens.token()
    except AuthenticationError as exc:
        raise CheckFailed(auth_reason(exc)) from exc
    except TransportError as exc:
        raise CheckFailed(f"sign-in service unreachable: {connection_reason(exc)}") from exc
    return "token acquired", tokens


def _who_am_i(settings: DataverseSettings, tokens: TokenProvider) -> tuple[str, None]:
    probe = settings.model_copy(update=PROBE_LIMITS)
    with DataverseClient(probe, token_provider=tokens) as client:
        try:
            answer = client.call_function("WhoAmI")
        except ResponseError as exc:
            code = f" {exc.code}" if exc.code else ""
            raise CheckFailed(f"WhoAmI answered HTTP {exc.status}{code}: {exc.message}") from exc
        except TransportError as exc:
            raise CheckFailed(f"Dataverse unreachable: {connection_reason(exc)}") from exc
        except ValueError as exc:
            raise CheckFailed("WhoAmI did not answer JSON: is DATAVERSE__URL Dataverse?") from exc
    if not isinstance(answer, dict) or "UserId" not in answer:
        raise CheckFailed("WhoAmI answered without a UserId: is DATAVERSE__URL Dataverse?")
    return "WhoAmI answered", None


def _run(name: str, check: Callable[[], tuple[str, Any]]) -> tuple[Check, Any]:
    """Time one check; its result (None when it failed) goes to the next one."""
    started = time.perf_counter()
    try:
        detail, result = check()
        ok = True
    except CheckFailed as exc:
        detail, result, ok = one_line(str(exc)), None, False
    elapsed = round((time.perf_counter() - started) * 1000, 1)
    return Check(name, ok, detail, elapsed), result


def _skipped(name: str, failed: str) -> Check:
    return Check(name, False, f"skipped: the {failed} check failed", 0.0)
