"""The dispatcher routes each event by table to the registration pipeline, the follow-ups,
both (a registration's status change) or neither."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from plugins.core.events import DataverseEvent
from plugins.core.schema_map import SchemaMap
from plugins.dispatch import RETRYABLE, EventDispatcher
from plugins.registration.errors import TransientFailure
from plugins.registration.service import Outcome
from plugins.sync.follow_ups import FollowUpFailure

REGISTRATION = "mp_registration"


@dataclass
class Registration:
    """Stands in for the registration service: records what it was given."""

    schema: SchemaMap = field(default_factory=SchemaMap)
    seen: list[str] = field(default_factory=list)
    failure: Exception | None = None

    def handle_event(self, event: DataverseEvent) -> Outcome:
        if self.failure is not None:
            raise self.failure
        self.seen.append(event.table)
        return Outcome(registration_id=event.record_id, result="skipped")


@dataclass
class FollowUps:
    """Stands in for the follow-ups: watches registrations and memberships."""

    tables: frozenset[str] = frozenset({REGISTRATION, "mp_membership"})
    seen: list[str] = field(default_factory=list)

    def handle(self, event: DataverseEvent) -> None:
        self.seen.append(event.table)


def event(table: str) -> DataverseEvent:
    return DataverseEvent(
        source="webhook", message="Update", table=table, record_id="r1", stage=40, mode=1
    )


@pytest.mark.parametrize(
    ("table", "pipeline", "follow_ups", "result"),
    [
        (REGISTRATION, [REGISTRATION], [REGISTRATION], "skipped"),
        ("mp_membership", [], ["mp_membership"], "ignored"),
        ("task", [], [], "ignored"),
    ],
)
def test_events_go_to_the_services_that_watch_their_table(
    table: str, pipeline: list[str], follow_ups: list[str], result: str
) -> None:
    registration, later = Registration(), FollowUps()
    dispatcher = EventDispatcher(registration, later)  # type: ignore[arg-type]
    assert dispatcher.handle(event(table)).result == result
    assert (registration.seen, later.seen) == (pipeline, follow_ups)


def test_without_follow_ups_only_the_pipeline_runs() -> None:
    registration = Registration()
    dispatcher = EventDispatcher(registration)  # type: ignore[arg-type]
    assert dispatcher.handle(event("mp_membership")).result == "ignored"
    assert dispatcher.handle(event(REGISTRATION)).result == "skipped"
    assert registration.seen == [REGISTRATION]


def test_a_pipeline_failure_stops_before_the_follow_ups_and_is_retryable() -> None:
    registration, later = Registration(failure=TransientFailure("down")), FollowUps()
    dispatcher = EventDispatcher(registration, later)  # type: ignore[arg-type]
    with pytest.raises(RETRYABLE):
        dispatcher.handle(event(REGISTRATION))
    assert later.seen == []
    assert FollowUpFailure in RETRYABLE


def test_broken_follow_up_settings_leave_registrations_working(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from plugins.core.settings import Settings
    from plugins.registration import runtime

    class Client:
        def __init__(self, settings: object) -> None:
            self.settings = settings

    monkeypatch.setattr(runtime, "DataverseClient", Client)
    monkeypatch.setattr(runtime, "build_adapters", lambda settings: {})
    settings = Settings.model_validate({
        "dataverse": {"url": "https://contoso.crm4.dynamics.com"},
        "sync": {"follow_ups": {"enabled": True},
                 "delivery": {"mode": "servicebus", "servicebus_url": ""}},
    })
    dispatcher = runtime._build(settings)
    assert dispatcher.follow_ups is None
    assert "follow-ups are off until their settings are fixed" in caplog.text


@dataclass
class Erasure:
    """Stands in for the erasure requests: records what it was given."""

    table: str = "mp_erasurerequest"
    seen: list[str] = field(default_factory=list)
    failure: Exception | None = None

    def handle_event(self, event: DataverseEvent, now: object) -> None:
        if self.failure is not None:
            raise self.failure
        self.seen.append(event.record_id)


def test_a_created_erasure_request_goes_to_the_erasure_and_its_failure_is_retryable() -> None:
    from plugins.sync.erasure_requests import ErasureFailure

    erasure = Erasure()
    dispatcher = EventDispatcher(Registration(), erasure=erasure)  # type: ignore[arg-type]
    assert dispatcher.handle(event("mp_erasurerequest")).result == "ignored"
    assert dispatcher.handle(event("contact")).result == "ignored"
    assert erasure.seen == ["r1"]
    erasure.failure = ErasureFailure("Dataverse unavailable")
    with pytest.raises(RETRYABLE):
        dispatcher.handle(event("mp_erasurerequest"))
