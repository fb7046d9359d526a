"""Every event delivered three times, some at the same time: exactly one person per real
person, one status write per registration, no duplicate review tasks.

The registrations' Create events are parked, then half of them go onto the Service Bus queue
three times each (the host runs ``maxConcurrentCalls`` messages at once, so copies overlap)
and the other half are posted to the webhook three times each, all three at once. The first
webhook triple is held until two of its change sets meet, so at least one delivery is
certainly refused with 412 and decides again. The invariants are :func:`workload.check`'s.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from workload import Writes, check, people, seed, submit

from sandbox.servicebus.queue import Message

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from pipeline_env import WEBHOOK_KEY, PipelineEnv, pipeline_env

COPIES = 3


def post_at_once(env: PipelineEnv, events: list[Message]) -> None:
    """Post each event to the webhook ``COPIES`` times, the copies at the same time."""
    url = f"{env.host.base_url}/api/registration/events"

    def post(event: Message) -> int:
        return requests.post(url, data=event.body, params={"code": WEBHOOK_KEY},
                             headers={"content-type": "application/json"}, timeout=60).status_code

    copies = [event for event in events for _ in range(COPIES)]
    with ThreadPoolExecutor(4 * COPIES) as pool:
        assert set(pool.map(post, copies)) <= {200}


@pytest.mark.parametrize(
    "count", [pytest.param(27, id="ci"), pytest.param(200, marks=pytest.mark.heavy, id="heavy")]
)
def test_every_event_three_times_is_processed_once(tmp_path: Path, count: int) -> None:
    everyone = people(count)
    with pipeline_env(tmp_path, seed(everyone)) as env:
        writes = Writes(env.sandbox)
        with env.routed("parked"):
            submitted = submit(env, everyone)
            events = env.take_parked()
            assert len(events) == len(submitted)
            queued, posted = events[::2], events[1::2]
            with env.change_sets_meet(2):
                post_at_once(env, posted[:1])
            env.deliver(queued, copies=COPIES)
            post_at_once(env, posted[1:])
            env.settle(timeout=30 + count / 2)
        check(env.sandbox, everyone, submitted, writes)
