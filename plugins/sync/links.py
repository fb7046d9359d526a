"""Signed single-use update links for the messages the lifecycle sends.

The same links the self-service pages e-mail on request (:mod:`plugins.selfservice.signing`):
a row in ``mp_selfservicelink`` (purpose update) for the person, and a URL on
``SELFSERVICE__PUBLIC_BASE_URL`` carrying only the signed token. Following it opens the
person's details; saving uses the link up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

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

    def issue(self, person_id: str, language: str | None = None) -> str:
        """A new link for the person: its row is created, its URL returned."""
        link = new_link(LinkPurpose.UPDATE, self._clock(), self._lifetime)
        self._client.create(
            self._schema.selfservice_link.entity_set, link_row(self._schema, link, person_id)
        )
        token = link_token(self._keys, link)
        return f"{self._base}/link/{token}?lang={language or self._language}"
