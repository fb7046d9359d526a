"""Signed single-use update links for the messages the lifecycle sends.

The same links the self-service pages e-mail on request (:mod:`plugins.selfservice.signing`):
a row in ``mp_selfservicelink`` (purpose update) for the person, and a URL on
``SELFSERVICE__PUBLIC_BASE_URL`` carrying only the signed token. Following it opens the
person's details; saving uses the link up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from plugins.core.schema_map import SchemaMap
from plugins.dataverse.client import DataverseClient
from plugins.selfservice.signing import KeyRing, LinkPurpose, link_token, new_link
from plugins.selfservice.store import link_row


class UpdateLinks:
    """Issues update links for people, one Dataverse row per link."""

    def __init__(
        self,
        client: DataverseClient,
        schema: SchemaMap,
        keys: KeyRing,
        base_url: str,
        lifetime: timedelta,
        language: str,
        clock: Callable[[], datetime],
    ) -> None:
        if not base_url:
            raise ValueError("update links need SELFSERVICE__PUBLIC_BASE_URL")
        self._client = client
        self._schema = schema
        self._keys = keys
        self._base = base_url.rstrip("/")
        self._lifetime = lifetime
        self._language = language
        self._clock = clock

    @property
    def entity_set(self) -> str:
        """Where link rows are created."""
        return self._schema.selfservice_link.entity_set

    def new(self, person_id: str, language: str | None = None) -> tuple[dict[str, Any], str]:
        """A new link for the person: the row to create (by the caller, with what it sends)
        and the URL."""
        link = new_link(LinkPurpose.UPDATE, self._clock(), self._lifetime)
        token = link_token(self._keys, link)
        url = f"{self._base}/link/{token}?lang={language or self._language}"
        return link_row(self._schema, link, person_id), url

    def issue(self, person_id: str, language: str | None = None) -> str:
        """A new link for the person: its row is created, its URL returned."""
        row, url = self.new(person_id, language)
        self._client.create(self.entity_set, row)
        return url
