"""Building the sync jobs from settings: disabled jobs, and what an enabled job needs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from plugins.core.settings import DataverseSettings, Settings, SyncSettings
from plugins.dataverse.client import DataverseClient
from plugins.sync.event_services import ConfigurationError
from plugins.sync.jobs import SyncJobs

NOW = datetime(2025, 6, 23, tzinfo=UTC)


class _NoTokens:
    def token(self, *, force_refresh: bool = False) -> str:
        raise AssertionError("no request may be sent")


def jobs(**sync: object) -> SyncJobs:
    client = DataverseClient(
        DataverseSettings(url="http://127.0.0.1:9"), token_provider=_NoTokens()
    )
    return SyncJobs(Settings(sync=SyncSettings(**sync)), client)


def test_disabled_jobs_send_nothing() -> None:
    with jobs() as disabled:
        assert disabled.upkeep(NOW) is None
        assert disabled.graduates(NOW) is None
        assert disabled.lifecycle(NOW) is None
        assert disabled.client.request_counter.total == 0


def test_an_enabled_job_needs_its_registry() -> None:
    with jobs(upkeep=SyncSettings.Upkeep(enabled=True)) as enabled, pytest.raises(
        ConfigurationError, match="navet"
    ):
        enabled.upkeep(NOW)
    with jobs(graduates=SyncSettings.Graduates(enabled=True)) as enabled, pytest.raises(
        ConfigurationError, match="fs"
    ):
        enabled.graduates(NOW)


def test_topic_delivery_needs_its_namespace_and_key() -> None:
    settings = {
        "lifecycle": SyncSettings.Lifecycle(enabled=True),
        "delivery": SyncSettings.Delivery(mode="servicebus"),
    }
    with jobs(**settings) as enabled, pytest.raises(ConfigurationError, match="servicebus"):
        enabled.lifecycle(NOW)


def test_tombstone_key_must_be_long() -> None:
    with pytest.raises(ValueError, match="32"):
        SyncSettings(tombstone_key="short")  # type: ignore[arg-type]
