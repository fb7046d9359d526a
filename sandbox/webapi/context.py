"""What every Web API handler receives: the store, the caller, the URLs and the preferences."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request

from plugins.core.schema import Table

from .. import errors
from ..store import Caller, Row, Store
from .resource import KeySpec

if TYPE_CHECKING:
    from . import WebApi

API_PATH = "/api/data/v9.2/"


@dataclass(frozen=True)
class Preferences:
    """The ``Prefer`` header, parsed (several preferences may be comma-separated)."""

    return_representation: bool = False
    annotations: str | None = None
    maxpagesize: int | None = None
    continue_on_error: bool = False
    applied: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def parse(cls, header: str | None) -> Preferences:
        values: dict[str, Any] = {}
        # A quoted value may hold commas: odata.include-annotations="A,B".
        for raw in re.split(r',(?=(?:[^"]*"[^"]*")*[^"]*$)', header or ""):
            item = raw.strip()
            if not item:
                continue
            name, _, value = item.partition("=")
            name = name.strip().lower()
            value = value.strip().strip('"')
            if name == "return" and value == "representation":
                values["return_representation"] = True
            elif name == "odata.include-annotations":
                values["annotations"] = value
            elif name == "odata.maxpagesize":
                try:
                    values["maxpagesize"] = max(1, min(5000, int(value)))
                except ValueError:
                    continue
            elif name == "odata.continue-on-error":
                values["continue_on_error"] = True
        return cls(**values)


@dataclass
class ApiContext:
    """One Web API request being answered."""

    api: WebApi
    request: Request
    caller: Caller
    prefer: Preferences

    @property
    def store(self) -> Store:
        return self.api.store

    @property
    def service_root(self) -> str:
        """``https://host:port/api/data/v9.2/`` as the client reached us."""
        return self.request.host_url.rstrip("/") + API_PATH

    def entity_url(self, table: Table, row_id: str) -> str:
        return f"{self.service_root}{table.entity_set}({row_id})"

    def json_body(self) -> Any:
        """The request body as JSON, or Dataverse's 400 when it is not JSON."""
        raw = self.request.get_data(cache=True)
        if not raw:
            raise errors.malformed_json("the request body is empty")
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise errors.malformed_json(f"invalid JSON ({exc.__class__.__name__})") from exc

    def resolve(self, table: Table, key: KeySpec) -> Row | None:
        """The row a key addresses: bare GUID, named primary key or a defined alternate key."""
        store = self.store
        if key.guid:
            return store.get(table.logical_name, key.guid)
        parts = key.parts
        if set(parts) == {table.primary_id}:
            return store.get(table.logical_name, str(parts[table.primary_id]))
        for alt in table.keys:
            if set(alt.columns) == set(parts):
                return store.find_by_key(table.logical_name, alt.name, parts)
        raise errors.invalid_key(table.logical_name)

    def require(self, table: Table, key: KeySpec) -> Row:
        row = self.resolve(table, key)
        if row is None:
            if key.guid or set(key.parts) == {table.primary_id}:
                raise errors.row_not_found(
                    table.logical_name, key.guid or str(key.parts[table.primary_id])
                )
            raise errors.key_not_found(table.logical_name)
        return row
