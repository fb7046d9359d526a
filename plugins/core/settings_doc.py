"""Every setting as a table row: the environment variable, its default and what it does.

``member-plugins settings`` prints it; ``docs/settings.md`` is this output (``make
settings-doc`` writes it), and a test keeps the two in step, so a setting cannot be added
without being documented.
"""

from __future__ import annotations

import ast
import inspect
import json
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from functools import cache
from itertools import pairwise
from typing import Any, get_args, get_origin

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo

from .settings import APP_SETTING, Settings


@dataclass(frozen=True)
class SettingRow:
    env: str
    default: str
    description: str


def _model_of(annotation: Any) -> type[BaseModel] | None:
    candidates = [annotation, *get_args(annotation)]
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _is_secret(annotation: Any) -> bool:
    return annotation is SecretStr or SecretStr in get_args(annotation)


def _default_text(field: FieldInfo) -> str:
    if _is_secret(field.annotation):
        return "(secret)"
    if field.is_required():
        return "(required)"
    value = field.get_default(call_default_factory=True)
    if value is None or value == "":
        return ""
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, BaseModel):
        return json.dumps(value.model_dump(mode="json", exclude_defaults=True)) or "{}"
    if isinstance(value, dict | list | tuple):
        return json.dumps(_plain(value), ensure_ascii=False)
    return str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(getattr(k, "value", k)): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@cache
def attribute_docstrings(model: type[BaseModel]) -> dict[str, str]:
    """The string literal under each annotated field in ``model``'s class body (an
    attribute docstring, PEP 257), read from its source; a base class's too."""
    found: dict[str, str] = {}
    for base in reversed(model.__mro__):
        if base is BaseModel or not issubclass(base, BaseModel):
            continue
        statements = ast.parse(textwrap.dedent(inspect.getsource(base))).body[0].body
        for node, after in pairwise(statements):
            if (
                isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                found[node.target.id] = inspect.cleandoc(after.value.value)
    return found


def _describe(field: FieldInfo, model: type[BaseModel], name: str) -> str:
    text = field.description or attribute_docstrings(model).get(name, "")
    nested = _model_of(field.annotation)
    if not text and nested is not None and nested.__doc__:
        text = nested.__doc__.strip().splitlines()[0]
    return " ".join(text.split())


def setting_rows(model: type[BaseModel] = Settings, prefix: str = "") -> Iterator[SettingRow]:
    """One row per leaf setting; nested groups are flattened with ``__``, and a setting a
    binding reads goes by its own app-setting name."""
    for name, field in model.model_fields.items():
        extra = field.json_schema_extra
        own = extra.get(APP_SETTING) if isinstance(extra, dict) else None
        env = str(own) if own else f"{prefix}{name}".upper()
        nested = _model_of(field.annotation)
        leaf_like = get_origin(field.annotation) in (dict, tuple, list)
        if nested is not None and not leaf_like and nested.model_fields and not _is_rule(nested):
            yield from setting_rows(nested, f"{env}__")
            continue
        yield SettingRow(env, _default_text(field), _describe(field, model, name))


def _is_rule(model: type[BaseModel]) -> bool:
    # Recursive rule models are configured as one JSON value, not field by field.
    return any(_model_of(f.annotation) is model for f in model.model_fields.values()) or any(
        model in get_args(a) for f in model.model_fields.values() for a in get_args(f.annotation)
    )


def markdown_table() -> str:
    """The settings as Markdown: one table per group (what docs/settings.md shows)."""
    lines: list[str] = []
    for group, field in Settings.model_fields.items():
        name = group.upper()
        doc = field.annotation
        rows = list(setting_rows(doc, f"{name}__")) if isinstance(doc, type) else []
        title = (getattr(doc, "__doc__", None) or "").strip().splitlines()[:1]
        lines += ["", f"#### `{name}__*`" + (f": {title[0]}" if title else ""), ""]
        lines += ["| Setting | Default | What it does |", "|---|---|---|"]
        for row in rows:
            default = f"`{row.default}`".replace("|", "\\|") if row.default else ""
            lines.append(f"| `{row.env}` | {default} | {row.description} |")
    return "\n".join(lines).strip() + "\n"
