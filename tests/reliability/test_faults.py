"""20 % injected faults across a few hundred registrations: none lost, none processed twice.

The sandbox answers one Web API request in five with a fault (429 with ``Retry-After``, 503,
or a dropped connection; seeded), while the registrations' Create events go through the
Service Bus queue. The client makes one attempt per request, so every fault reaches the
pipeline's own recovery: a failed run leaves its registration Received and abandons its
message, the queue delivers it again and dead-letters it after three tries, and the sweep
timer (run as the host runs it, faults still on) takes what is left.
Then, with the faults off, :func:`workload.check`: every registration has its final status,
written once; one person per real person; no duplicate review task.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import pytest
from workload import REG, Writes, check, people, seed, submit

from plugins.registration.errors import TransientFailure
from plugins.registration.model import Status
from sandbox.config import Limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from pipeline_env import QUEUE, PipelineEnv, pipeline_env

FAULT_RATE = 0.2
FAULT_KINDS = ("429", "503", "drop")
MAX_DELIVERIES = 3
RECEIVED = REG.status_values[Status.RECEIVED]


def received(env: PipelineEnv, registration_ids: list[str]) -> list[str]:
    store = env.sandbox.store
    return [i for i in registration_ids
            if (row := store.get(REG.table, i)) is not None and row.values[REG.status] == RECEIVED]


def sweep_until_done(env: PipelineEnv, registration_ids: list[str]) -> int:
    """Run the sweep timer, as its schedule would, until nothing is left Received (at most
    once per registration: a run stops at its first failure); how many runs it took."""
    for run in range(len(registration_ids)):
        if not received(env, registration_ids):
            return run
        with contextlib.suppress(TransientFailure):
            # A run whose own query failed: the schedule runs it again, and so does this.
            env.host.run_timer("registration_sweep")
        env.settle()
    return len(registration_ids)


@pytest.mark.parametrize(
    "count", [pytest.param(100, id="ci"), pytest.param(500, marks=pytest.mark.heavy, id="heavy")]
)
def test_faults_lose_nothing_and_duplicate_nothing(
    tmp_path: Path, count: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    everyone = people(count)
    # As under Core Tools, the environment wins over the host's app settings.
    monkeypatch.setenv("DATAVERSE__MAX_ATTEMPTS", "1")
    # The limits are lifted: this is about faults, not throttling (the test's own reads and
    # creates would otherwise count against the pipeline's 6000 requests).
    with pipeline_env(tmp_path, seed(everyone), fault_seed=count,
                      limits=Limits(requests=10**6)) as env:
        writes = Writes(env.sandbox)
        protection = env.sandbox.protection
        with env.routed("parked"):
            submitted = submit(env, everyone)
            events = env.take_parked()
            env.sandbox.servicebus.set_max_delivery_count(QUEUE, MAX_DELIVERIES)
            protection.configure(fault_rate=FAULT_RATE, fault_kinds=FAULT_KINDS)
            try:
                env.deliver(events)
                env.settle(timeout=60 + count / 2)
                ids = [item.registration_id for item in submitted]
                left_after_queue = len(received(env, ids))
                sweeps = sweep_until_done(env, ids)
            finally:
                protection.configure(fault_rate=0.0)
        injected = protection.counters().faults
        print(f"\n{count} registrations, faults injected {injected}, dead letters "
              f"{len(env.sandbox.servicebus.dead_letters(QUEUE))}, left Received after the "
              f"queue {left_after_queue}, sweeps run {sweeps}")
        assert set(injected) == set(FAULT_KINDS)
        assert received(env, ids) == []
        check(env.sandbox, everyone, submitted, writes)
