"""A burst of registrations at Dataverse's real, unscaled limits: batches vs one at a time.

A mass mailing makes thousands of people register within minutes. This benchmark creates
``--count`` registrations (default 3,000: more than one window's budget at two requests
each) with their events waiting on the queue, then lets two ways handle them against the
sandbox with Dataverse's own limits (6,000 requests and 1,200,000 ms of execution time per
user in a sliding 300 s window, 52 concurrent; ``Retry-After`` until the window allows
again, so up to 300 s), while the same application user does ``--other-rps`` requests a
second of other work (a nightly job, the webhook) all along:

1. **batched** (the product): ``function_app.py`` in the local host, the queue trigger taking
   ``maxMessageBatchSize`` (host.json) events per call, one read ``$batch`` and one write
   ``$batch`` per batch, and events Dataverse throttles past the retry budget put back on
   the queue for after the ``Retry-After``;
2. **per message** (the trigger as it was): the same service deciding one event per call,
   ``maxConcurrentCalls`` calls at once, each message received and settled through the
   Service Bus REST API as the local host does, a failed event abandoned into an immediate
   redelivery (and dead-lettered after the queue's 10 deliveries).

Each way gets its own people and a fresh window (the registrations are created with the
limits lifted, then the limits' clock is moved past them). A way is done when every
registration is decided, or when nothing is left to deliver (the rest stays ``Received``:
lost to the queue, waiting for the sweep). Printed per way: Web API requests per
registration (the pipeline's, the other work's not counted), 429s drawn, registrations per
second, the time until the last was decided, dead letters, lost, wrong statuses (not what
the rules give), and the peak resident memory of the process (sandbox and host run in it)
above what it was when the way started.

    python -m bench.registration_burst [--count 3000] [--other-rps 5] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from plugins.admin.endpoint import QueueDelivery
from plugins.admin.steps import RegistrationOptions, register
from plugins.core.events import EventParseError, parse_servicebus
from plugins.core.logging import configure_logging
from plugins.core.settings import Settings
from plugins.dataverse.client import DataverseClient
from plugins.registration.registry_facts import Registries
from plugins.registration.service import RegistrationService
from plugins.registries.factory import build_adapters
from sandbox.app import Sandbox
from sandbox.config import Limits, SandboxConfig
from sandbox.demo import QUEUE, app_settings
from sandbox.host import LocalHost
from sandbox.host.config import EnvironmentOverlay, HostConfig
from sandbox.host.loader import load_app
from sandbox.host.servicebus import ConnectionInfo, QueueClient, ReceivedMessage
from sandbox.product_settings import dataverse_settings, servicebus_connection_string
from sandbox.webapi.context import API_PATH

from .registration_throughput import (
    FUNCTION_APP,
    MAP,
    RECEIVED,
    REG,
    ROOT,
    SUBMITTERS,
    THROTTLED,
    UNLIMITED,
    Person,
    people,
    seed,
)

REAL_LIMITS = Limits()
POLL_SECONDS = 0.05


@dataclass
class BurstRun:
    """What one way did with the burst."""

    name: str
    registrations: int
    seconds: float
    requests: int
    refused: int
    dead_letters: int
    lost: int
    wrong: int
    peak_memory_mib: float
    statuses: Counter[str]

    @property
    def per_second(self) -> float:
        return (self.registrations - self.lost) / self.seconds

    @property
    def requests_per_registration(self) -> float:
        return self.requests / self.registrations


class MemoryPeak:
    """The highest resident set size of this process while running, above the start."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._start = _rss_mib()
        self.peak = self._start
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> MemoryPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def above_start(self) -> float:
        return self.peak - self._start

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, _rss_mib())


def _rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def other_work(admin: DataverseClient, rps: float) -> Iterator[None]:
    """The application user's other requests, ``rps`` a second, while the block runs."""
    stop = threading.Event()

    def work() -> None:
        gap = 1 / rps
        while not stop.wait(gap):
            try:
                admin.call_function("WhoAmI")
            except Exception:
                continue

    thread = threading.Thread(target=work, daemon=True)
    if rps > 0:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        if rps > 0:
            thread.join()


class RestQueueWorkers:
    """The trigger as it was: ``concurrency`` calls at once, one event each, received and
    settled through the Service Bus REST API as the local host does; a call that raises
    abandons its message (an immediate redelivery), one that returns completes it."""

    def __init__(
        self, sandbox: Sandbox, service: RegistrationService, concurrency: int
    ) -> None:
        self._client = QueueClient(
            ConnectionInfo.parse(servicebus_connection_string(sandbox)), QUEUE,
            ca_bundle=sandbox.ca_file,
        )
        self._service = service
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._work, daemon=True)
                         for _ in range(concurrency)]

    def __enter__(self) -> RestQueueWorkers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self._client.close()

    def _work(self) -> None:
        while not self._stop.is_set():
            message = self._client.receive()
            if message is None:
                self._stop.wait(POLL_SECONDS)
                continue
            try:
                self._handle(message)
            except Exception:
                self._client.abandon(message)
            else:
                self._client.complete(message)

    def _handle(self, message: ReceivedMessage) -> None:
        try:
            event = parse_servicebus(message.body, message.application_properties)
        except EventParseError:
            return
        self._service.handle_event(event)


def product_service(settings: Settings) -> RegistrationService:
    """The product's registration service as the function app builds it."""
    client = DataverseClient(
        settings.dataverse.model_copy(update={"write_tag": settings.registration.write_tag})
    )
    return RegistrationService(
        client, settings.registration, settings.schema_map,
        registries=Registries.from_adapters(build_adapters(settings.registries),
                                            settings.registration),
    )


class Burst:
    """The started sandbox, the administrator's client and the way to measure a burst."""

    def __init__(self, sandbox: Sandbox, admin: DataverseClient, other_rps: float) -> None:
        self.sandbox = sandbox
        self.admin = admin
        self.other_rps = other_rps

    def run(
        self,
        name: str,
        workload: list[Person],
        consumers: Callable[[], AbstractContextManager[object]],
        timeout: float,
    ) -> BurstRun:
        """Queue the workload's events, then let ``consumers`` take them at the real limits."""
        protection = self.sandbox.protection
        protection.configure(limits=UNLIMITED)
        submitted = self._submit(workload)
        if not self.sandbox.steps.wait_idle(600):
            raise RuntimeError("the steps did not deliver every event to the queue")
        # The benchmark's own creates are not the pipeline's: a fresh window for the burst.
        protection.advance_clock(REAL_LIMITS.window_seconds + 1)
        protection.configure(limits=REAL_LIMITS)
        correlations = {correlation for correlation, _, _ in submitted}
        started_at = time.time()
        started = time.perf_counter()
        with MemoryPeak() as memory, other_work(self.admin, self.other_rps), consumers():
            last = self._wait_done([rid for _, rid, _ in submitted], timeout, started)
        seconds = last - started
        entries = [
            e for e in self.sandbox.request_log.entries()
            if e.path.startswith(API_PATH) and e.at >= started_at
            and e.correlation_id in correlations
        ]
        refused = sum(1 for e in entries if e.status == THROTTLED)
        statuses = {rid: REG.status_of(self._status(rid)) for _, rid, _ in submitted}
        lost = sum(1 for value in statuses.values() if str(value) == "Received")
        wrong = sum(1 for _, rid, expected in submitted
                    if statuses[rid] is not expected and str(statuses[rid]) != "Received")
        dead = len(self.sandbox.servicebus.dead_letters(QUEUE))
        self._clear_dead_letters()
        return BurstRun(name, len(workload), seconds, len(entries) - refused, refused, dead,
                        lost, wrong, memory.above_start,
                        Counter(str(status) for status in statuses.values()))

    def _submit(self, workload: list[Person]) -> list[tuple[str, str, object]]:
        def create(person: Person) -> tuple[str, str, object]:
            correlation_id = str(uuid.uuid4())
            with self.admin.correlation(correlation_id):
                created = self.admin.create(REG.entity_set, person.form())
            if created.id is None:
                raise RuntimeError("the sandbox did not say which registration it created")
            return correlation_id, created.id, person.case.expected

        with ThreadPoolExecutor(SUBMITTERS) as pool:
            return list(pool.map(create, workload))

    def _wait_done(self, registration_ids: list[str], timeout: float, started: float) -> float:
        """The moment the last registration was decided (or nothing was left to deliver)."""
        deadline = started + timeout
        pending = set(registration_ids)
        last = time.perf_counter()
        queue = self.sandbox.servicebus.queue(QUEUE)
        while pending and time.perf_counter() < deadline:
            still = {i for i in pending if self._status(i) == RECEIVED}
            if len(still) < len(pending):
                last = time.perf_counter()
            pending = still
            if pending and queue.active_count() == 0 and queue.scheduled_count() == 0:
                # Nothing left to deliver; give what is running a moment to finish.
                time.sleep(1.0)
                if queue.active_count() == 0 and queue.scheduled_count() == 0:
                    break
            time.sleep(POLL_SECONDS)
        return last

    def _status(self, registration_id: str) -> int | None:
        row = self.sandbox.store.get(REG.table, registration_id)
        return row.values.get(REG.status) if row else None

    def _clear_dead_letters(self) -> None:
        dead_letter_queue = self.sandbox.servicebus.queue(QUEUE).dead_letter_queue
        while dead_letter_queue is not None and (
            message := dead_letter_queue.receive()
        ) is not None:
            if message.lock_token is not None:
                dead_letter_queue.complete(message.sequence_number, message.lock_token)


def run(count: int, other_rps: float, latency_ms: int, timeout: float) -> list[BurstRun]:
    """Both ways on their own ``count`` people."""
    concurrency = HostConfig.from_folder(ROOT).max_concurrent_calls
    load_app(str(FUNCTION_APP))
    configure_logging(logging.ERROR)
    batched_people, single_people = people(0, count), people(count, count)
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as state:
        config = SandboxConfig(https=True, state_dir=state, latency_ms=latency_ms,
                               limits=UNLIMITED)
        with Sandbox(config, seed=seed(batched_people + single_people)) as sandbox:
            settings = app_settings(sandbox, Path(state) / "maskinporten-key.pem")
            with DataverseClient(dataverse_settings(sandbox)) as admin:
                register(admin, RegistrationOptions(
                    QueueDelivery(f"sb://{config.host}/", QUEUE, "sandbox", "sandbox"), MAP))
                burst = Burst(sandbox, admin, other_rps)

                def host() -> LocalHost:
                    return LocalHost(str(FUNCTION_APP), settings=settings,
                                     servicebus_ca_bundle=sandbox.ca_file,
                                     servicebus_poll_seconds=POLL_SECONDS)

                batched = burst.run("batched (the product)", batched_people, host, timeout)
                overlay = EnvironmentOverlay(settings)
                overlay.apply()
                try:
                    service = product_service(Settings())
                finally:
                    overlay.restore()
                with service.client:
                    single = burst.run(
                        f"per message ({concurrency} at once, abandon)", single_people,
                        lambda: RestQueueWorkers(sandbox, service, concurrency),
                        timeout,
                    )
    return [batched, single]


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run both ways and print the figures side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=3000, help="registrations per way")
    parser.add_argument("--other-rps", type=float, default=5,
                        help="the application user's other requests per second")
    parser.add_argument("--latency-ms", type=int, default=20, help="injected per request")
    parser.add_argument("--timeout", type=float, default=1800,
                        help="give up on a way after this many seconds")
    args = parser.parse_args(argv)
    batched, single = run(args.count, args.other_rps, args.latency_ms, args.timeout)
    batch_size = HostConfig.from_folder(ROOT).max_message_batch_size
    print(f"registration burst at Dataverse's real limits: {args.count} registrations per way "
          f"at once, {args.latency_ms} ms latency, the same user's other work "
          f"{args.other_rps:g} requests/s")
    print(f"  limits: {REAL_LIMITS.requests} requests and {REAL_LIMITS.execution_ms:,} ms per "
          f"{REAL_LIMITS.window_seconds:g} s window, {REAL_LIMITS.concurrency} concurrent; "
          f"batched: maxMessageBatchSize {batch_size}")
    header = (f"  {'':<34}{'req/reg':>8}{'429s':>7}{'reg/s':>8}{'last at':>10}"
              f"{'dead':>6}{'lost':>6}{'wrong':>7}{'peak MiB':>10}")
    print(header)
    for result in (batched, single):
        print(f"  {result.name:<34}{result.requests_per_registration:8.3f}{result.refused:7d}"
              f"{result.per_second:8.2f}{result.seconds:9.1f}s{result.dead_letters:6d}"
              f"{result.lost:6d}{result.wrong:7d}{result.peak_memory_mib:10.1f}")
    ratio = single.requests_per_registration / batched.requests_per_registration
    speed = batched.per_second / single.per_second if single.per_second else float("inf")
    print(f"  batched vs per message: {ratio:.1f}x fewer requests per registration, "
          f"{speed:.1f}x the registrations per second")
    for result in (batched, single):
        statuses = ", ".join(f"{name} {n}" for name, n in sorted(result.statuses.items()))
        print(f"  {result.name.split(' (')[0]} statuses: {statuses}")


if __name__ == "__main__":
    main()
