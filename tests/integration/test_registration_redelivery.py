"""Queued events the pipeline could not process now are put back for later, never burnt.

Dataverse is told to refuse every request with a 300 s ``Retry-After`` (its window spent by
work elsewhere). The event must be put back on the queue for after that wait, not abandoned
into ten immediate redeliveries and a dead letter; once the wait is over it is decided.
Instead of waiting 300 s the test moves three clocks forward together: the sandbox's
service-protection clock, the Service Bus namespace's clock and the product's throttle
budget's clock, so the order of events is the one real time would give.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pipeline_env import QUEUE, PipelineEnv, personnummer, pipeline_env

from plugins.dataverse.throttle import shared_budget
from plugins.registration.redelivery import DELIVERY_COUNT_PROPERTY

RECEIVED, NOT_APPROVED = 100000000, 100000003
THROTTLED = personnummer("19820101", "131")
REGISTRY_DOWN = personnummer("19820202", "132")
CONCURRENCY = 16  # DataverseSettings.max_concurrent_requests, as the host runs it


@pytest.fixture
def env(tmp_path: Path) -> Iterator[PipelineEnv]:
    # One environment per test: the product's throttle budget belongs to the sandbox's URL,
    # and a test that moves its clock leaves it in that test's time.
    with pipeline_env(tmp_path, {}) as started:
        yield started


def form(national_id: str, email: str) -> dict[str, str]:
    return {"mp_firstname": "Ada", "mp_lastname": "Lovelace", "mp_email": email,
            "mp_nationalid": f"{national_id[:8]}-{national_id[8:]}"}


def test_a_300_second_retry_after_puts_the_event_back_and_it_is_decided_after(
    env: PipelineEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    namespace = env.sandbox.servicebus
    with env.routed("parked"):
        registration_id = env.create_registration(correlation_id=str(uuid.uuid4()),
                                                  **form(THROTTLED, "throttled@example.org"))
        events = env.take_parked()
    env.sandbox.protection.spend_window(300)
    env.deliver(events)
    env.settle()
    queue = namespace.queue(QUEUE)
    put_back = queue.peek_all()

    assert env.sandbox.protection.counters().throttled
    assert namespace.dead_letters(QUEUE) == []
    assert queue.scheduled_count() == 1 and namespace.active_count(QUEUE) == 0
    assert len(put_back) == 1
    assert put_back[0].application_properties.get(DELIVERY_COUNT_PROPERTY.title()) == 1
    assert put_back[0].available_at is not None

    # Just short of the wait, nothing is due yet.
    env.sandbox.protection.advance_clock(295)
    namespace.advance_clock(295)
    env.settle()
    assert queue.scheduled_count() == 1

    budget = shared_budget(env.sandbox.base_url, env.sandbox.config.client_id, CONCURRENCY)
    monkeypatch.setattr(budget, "_clock", lambda: time.monotonic() + 302)
    env.sandbox.protection.advance_clock(7)
    namespace.advance_clock(7)
    env.settle()

    row = env.registration(registration_id)
    assert (row["mp_status"], row["mp_reason"]) == (NOT_APPROVED, "unknown-to-registries")
    assert len(env.contacts(THROTTLED)) == 1
    assert namespace.dead_letters(QUEUE) == []
    assert queue.scheduled_count() == 0 and namespace.active_count(QUEUE) == 0


def test_a_registry_failure_puts_the_event_back_for_5_seconds_then_it_is_decided(
    env: PipelineEnv,
) -> None:
    namespace = env.sandbox.servicebus
    queue = namespace.queue(QUEUE)
    # The adapter tries twice per delivery: one delivery's worth of failures.
    env.sandbox.registries.ladok.script("503", "503")
    with env.routed("servicebus"):
        registration_id = env.create_registration(**form(REGISTRY_DOWN, "down@example.org"))
        env.settle()
        assert env.registration(registration_id)["mp_status"] == RECEIVED
        assert queue.scheduled_count() == 1
        # 3 s rather than 4: the queue's clock also runs in real time, and a loaded machine
        # may spend a second between the put-back and this check.
        namespace.advance_clock(3)
        env.settle()
        assert queue.scheduled_count() == 1
        namespace.advance_clock(2)
        env.settle()
    row = env.registration(registration_id)
    assert (row["mp_status"], row["mp_reason"]) == (NOT_APPROVED, "unknown-to-registries")
    assert namespace.dead_letters(QUEUE) == [] and queue.scheduled_count() == 0
