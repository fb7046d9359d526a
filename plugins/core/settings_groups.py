"""Each plugin's settings, read and validated one group at a time.

A Function reads only the groups its plugin uses (:data:`PLUGIN_GROUPS`), at its first use,
so a bad value in one group stops only the functions that use that group: a broken
``REGISTRATION__ALUMNI_RULE`` leaves the self-service pages and the sync timers working.
A group is read again when its app settings change (never in Azure, where a changed app
setting restarts the app; the local host starts apps with other settings in one process).

A bad value is a :class:`SettingsError` naming the app setting as it is spelt in the Function
App (``REGISTRATION__ALUMNI_RULE``, never pydantic's path into the value), the problem and the
allowed values, and it is logged once, as one line, when it is first found.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Mapping
from functools import cache, lru_cache
from typing import Any

from pydantic import BaseModel, ValidationError, create_model
from pydantic_settings import SettingsError as SourceError

from .settings import EnvironmentSettings, SettingProblem, Settings, binding_settings
from .settings_doc import setting_rows

log = logging.getLogger(__name__)

GROUPS = tuple(Settings.model_fields)
SHARED = ("dataverse", "schema_map")
PLUGIN_GROUPS: dict[str, tuple[str, ...]] = {
    "registration": (*SHARED, "registries", "registration"),
    "selfservice": (*SHARED, "selfservice"),
    "sync": (*SHARED, "registries", "sync"),
    "dues": (*SHARED, "dues"),
}
_CHOICE_ERRORS = ("literal_error", "enum")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SettingsError(Exception):
    """An app setting holds a value its group cannot use."""

    def __init__(self, setting: str, problem: str, allowed: str = "") -> None:
        self.setting = setting
        self.problem = problem
        self.allowed = allowed
        super().__init__(str(self))

    def __str__(self) -> str:
        allowed = f" (allowed: {self.allowed})" if self.allowed else ""
        return f"{self.setting}: {self.problem}{allowed}"

    def as_dict(self) -> dict[str, str]:
        """``{"setting", "problem", "allowed"}``, for an answer that names the setting."""
        return {"setting": self.setting, "problem": self.problem, "allowed": self.allowed}


_lock = threading.Lock()
_loaded: dict[str, tuple[dict[str, str], BaseModel | SettingsError]] = {}


def load_group(group: str) -> Any:
    """The validated settings group ``group`` (``"registration"``...); SettingsError if bad."""
    environment = group_environment(group)
    with _lock:
        known = _loaded.get(group)
        if known is None or known[0] != environment:
            result = _read(group, environment)
            if isinstance(result, SettingsError):
                log.error("settings: %s; the functions using it stay off until it is fixed",
                          result)
            known = _loaded[group] = (environment, result)
    if isinstance(known[1], SettingsError):
        raise known[1]
    return known[1]


def read_groups(*groups: str) -> Settings:
    """A :class:`Settings` with ``groups`` read and validated now, neither cached nor
    logged (for the admin commands, which run once and say what is wrong themselves); the
    first bad one raises :class:`SettingsError`, the other groups hold their defaults."""
    loaded: dict[str, BaseModel] = {}
    for group in groups:
        result = _read(group, group_environment(group))
        if isinstance(result, SettingsError):
            raise result
        loaded[group] = result
    return Settings.model_construct(**loaded)


def load_settings(*groups: str) -> Settings:
    """A :class:`Settings` whose named groups are read and validated (the first bad one
    raises :class:`SettingsError`); the other groups hold their defaults, unread."""
    return Settings.model_construct(**{group: load_group(group) for group in groups})


def load_plugin(plugin: str) -> Settings:
    """The settings of one plugin (:data:`PLUGIN_GROUPS`)."""
    return load_settings(*PLUGIN_GROUPS[plugin])


def group_environment(group: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The app settings group ``group`` reads: ``GROUP`` and ``GROUP__*`` and its binding
    settings, by upper-case name."""
    prefix = group.upper()
    own = {name for name, (owner, _) in binding_settings().items() if owner == group}
    return {
        name.upper(): value
        for name, value in (os.environ if environ is None else environ).items()
        if name.upper() == prefix or name.upper().startswith(f"{prefix}__")
        or name.upper() in own
    }


@cache
def _root(group: str) -> type[EnvironmentSettings]:
    field = Settings.model_fields[group]
    root: type[EnvironmentSettings] = create_model(  # type: ignore[call-overload]
        f"{group.title()}Root", __base__=EnvironmentSettings, **{group: (field.annotation, field)}
    )
    return root


def _read(group: str, environment: dict[str, str]) -> BaseModel | SettingsError:
    renamed = _renamed_binding_setting(group, environment)
    if renamed is not None:
        return renamed
    try:
        loaded: BaseModel = getattr(_root(group)(), group)
    except ValidationError as exc:
        return _from_validation(exc, environment)
    except SourceError as exc:
        return _from_source(group, environment, exc)
    return loaded


def _renamed_binding_setting(group: str, environment: dict[str, str]) -> SettingsError | None:
    for name, (owner, field) in binding_settings().items():
        old = f"{owner}__{field}".upper()
        if owner == group and old in environment and name not in environment:
            return SettingsError(
                old, f"is no longer read: rename it {name} (a binding's %NAME% cannot "
                "resolve an app setting whose name has __)",
            )
    return None


def _from_validation(exc: ValidationError, environment: dict[str, str]) -> SettingsError:
    errors = exc.errors()
    # In a union every alternative reports; the first error that is not "extra input" is
    # the one about the value given (a wrong criterion kind, not a wrong rule shape).
    error = next((e for e in errors if e["type"] != "extra_forbidden"), errors[0])
    setting = setting_name(error, environment)
    problem = error["msg"].removeprefix("Value error, ")
    inside = _inside(error, setting)
    allowed = ""
    context = error.get("ctx") or {}
    if error["type"] in _CHOICE_ERRORS:
        shown = error["input"] if isinstance(error["input"], str | int) else "the value"
        problem = f"{shown!r} is not one of the allowed values"
        allowed = str(context.get("expected", ""))
    elif error["type"] == "union_tag_invalid":
        allowed = str(context.get("expected_tags", ""))
    return SettingsError(setting, f"{inside}: {problem}" if inside else problem, allowed)


def _inside(error: Mapping[str, Any], setting: str) -> str:
    """Where in a JSON setting's value the error is (``any_of.0.kind``), without pydantic's
    own validator names."""
    depth = setting.removesuffix("__*").count("__") + 1
    if setting in binding_settings():
        return ""
    rest = [*error["loc"], *_named_field(error)][depth:]
    return ".".join(str(p) for p in rest if isinstance(p, int) or _NAME.fullmatch(str(p)))


def setting_name(error: Mapping[str, Any], environment: Mapping[str, str]) -> str:
    """The app setting an error is about: the longest path into the value that is an app
    setting of this environment, else a documented setting, else the path's start."""
    path: list[str] = []
    for part in (*error["loc"], *_named_field(error)):
        if not isinstance(part, str) or not _NAME.fullmatch(part):
            break
        path.append(part.upper())
    candidates = ["__".join(path[: n + 1]) for n in range(len(path))]
    renamed = {f"{g}__{f}".upper(): name for name, (g, f) in binding_settings().items()}
    candidates = [renamed.get(candidate, candidate) for candidate in candidates]
    present = [c for c in candidates if c in environment]
    if present:
        return present[-1]
    documented = [c for c in candidates if c in _documented()]
    if documented:
        return documented[-1]
    return f"{candidates[0]}__*" if len(candidates) == 1 else candidates[-1]


def _named_field(error: Mapping[str, Any]) -> tuple[str, ...]:
    cause = (error.get("ctx") or {}).get("error")
    return (cause.setting,) if isinstance(cause, SettingProblem) else ()


@lru_cache(maxsize=1)
def _documented() -> frozenset[str]:
    return frozenset(row.env for row in setting_rows())


def _from_source(group: str, environment: dict[str, str], exc: SourceError) -> SettingsError:
    """A value that is not the JSON its setting takes (the source fails before validation)."""
    for name, value in sorted(environment.items()):
        if value.strip()[:1] in ("{", "["):
            try:
                json.loads(value)
            except ValueError as bad:
                return SettingsError(name, f"is not valid JSON ({bad})", "a JSON value")
    return SettingsError(f"{group.upper()}__*", str(exc))
