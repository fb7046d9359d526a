"""Registrations per second through the Service Bus path: the product's way vs the naive way.

Starts the sandbox in-process (HTTPS, msal, ``--latency-ms`` of injected latency per Web API
request) seeded with people and registry data (existing people matched by identity number or
e-mail, new people the registries know, a protected identity, people nobody knows), registers
the product's steps through the Web API as an administrator does (Service Bus delivery), and
runs the same kind of workload twice, each on its own ``--count`` people:

1. the product: ``function_app.py`` in the local Functions host; its Service Bus queue trigger
   takes ``maxMessageBatchSize`` (``host.json``) events per call and decides them with one
   read ``$batch`` and one write ``$batch`` of change sets;
2. the naive way, as a Power Automate flow or a hand-written script does it: as many workers
   take the same events off the same queue, and each lookup and each write is its own request
   (GET registration, GET contact by identity number, GET contact by e-mail, POST/PATCH contact,
   PATCH registration, POST task) through the same :class:`DataverseClient`. The decisions and
   the columns written are the product's own, so only the request pattern differs.

Dataverse's service-protection limits (6000 requests and 1,200,000 ms of execution time per
user in a sliding 300 s window, 52 concurrent requests) are scaled down by ``--limit-scale``:
both the request and execution-time budgets and the window are divided by it, which keeps
the sustained rate at Dataverse's 20 requests/s while making the window (and so a
``Retry-After``) short compared with a run of a minute. Concurrency stays 52.

Each run starts with the registrations already created (Web API, limits lifted, the
benchmark's own requests) and their events waiting on the queue, and with the window primed
at the limit rate (the benchmark spends the window's budget evenly over one window, as if
the environment had been busy), so no run gets the burst a fresh window lets through and
the sustained ceiling is a true upper bound. A run ends when no registration is
``Received`` any more. Printed: registrations per second, Web API
requests per registration (the sandbox's request log, by the events' correlation ids,
refused requests not counted), the ceiling (sustained request limit per second ÷ requests per
registration) and the share of it reached, the decisions, and the ratio of the two ways.
The naive way's writes are not atomic: when its event is delivered again between the
person's create and the registration's update (the update was throttled past the client's
retries, or the message's lock ran out while it waited), the new delivery finds the person
just created and decides differently from what the rules give; the count of such
registrations is printed for each way.

With ``--batch-sizes 1,8,16,32,64,100`` the product's way runs again for each batch size
(``AzureFunctionsJobHost__extensions__serviceBus__maxMessageBatchSize``, the app setting that
overrides host.json), each on its own people, and a table of requests per registration and
registrations per second is printed.

    python -m bench.registration_throughput [--count 150] [--limit-scale 30] [--latency-ms 20]
        [--batch-sizes 1,8,16,32,64,100]
"""

from __future__ import annotations

import argparse
import logging
import re
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from plugins.admin.endpoint import QueueDelivery
from plugins.admin.steps import RegistrationOptions, register
from plugins.core.events import EventParseError, parse_servicebus
from plugins.core.logging import configure_logging
from plugins.core.schema_map import SchemaMap
from plugins.core.settings import Settings
from plugins.dataverse import odata
from plugins.dataverse.batch import BatchOperation, BatchPartResult, BatchRequest, ChangeSet
from plugins.dataverse.client import DataverseClient, UpsertMode
from plugins.dataverse.errors import NotFoundError, PreconditionFailedError
from plugins.registration.errors import RegistrationGone, StaleWrite, TransientFailure
from plugins.registration.model import Category, Status
from plugins.registration.records import (
    ContactRecord,
    contact_columns,
    registration_columns,
    registration_record,
)
from plugins.registration.registry_facts import Registries
from plugins.registration.repository import (
    TECHNICAL,
    ContactLookup,
    DecisionRead,
    RegistrationRepository,
)
from plugins.registration.service import RegistrationService
from plugins.registries.factory import build_adapters
from sandbox.app import Sandbox
from sandbox.config import Limits, SandboxConfig
from sandbox.demo import QUEUE, TEAM_ID, app_settings
from sandbox.host import LocalHost
from sandbox.host.config import EnvironmentOverlay, HostConfig
from sandbox.host.loader import load_app
from sandbox.product_settings import dataverse_settings
from sandbox.servicebus.queue import Message
from sandbox.webapi.context import API_PATH

from .workload import ADDRESS, DEGREE, FEW_CREDITS, WorkloadPerson

ROOT = Path(__file__).resolve().parents[1]
FUNCTION_APP = ROOT / "function_app.py"
MAP = SchemaMap()
REG = MAP.registration
CONTACT = MAP.contact
RECEIVED = REG.status_values[Status.RECEIVED]
DATAVERSE_LIMITS = Limits()
# Lifted while the benchmark creates its registrations: those are not the pipeline's requests.
UNLIMITED = Limits(requests=10**9, execution_ms=10**12, concurrency=10**6)
THROTTLED = 429
SUBMITTERS = 8



# --------------------------------------------------------------------------- the workload


@dataclass(frozen=True)
class Case:
    """One kind of registration: who the person is to Dataverse and to the registries."""

    name: str
    expected: Status  # what the registration rules give
    categories: frozenset[Category] | None = None  # None: not in Dataverse yet
    courses: list[dict[str, str]] | None = None  # None: unknown to Ladok
    protection: str | None = None  # None: unknown to Navet
    number_on_form: bool = True


# Four in ten people are in Dataverse already, six are new (like the demo's day).
REGISTERED, APPROVED, NOT_APPROVED = (
    Status.APPROVED_REGISTERED_ALUMNUS, Status.APPROVED_ALUMNUS, Status.NOT_APPROVED
)
CASES = (
    Case("registered alumnus", REGISTERED,
         categories=frozenset({Category.ALUMNUS, Category.REGISTERED_ALUMNUS})),
    Case("alumnus", APPROVED, categories=frozenset({Category.ALUMNUS})),
    Case("student", NOT_APPROVED, categories=frozenset({Category.STUDENT})),
    Case("alumnus, matched by e-mail", APPROVED, categories=frozenset({Category.ALUMNUS}),
         number_on_form=False),
    Case("new, degree", APPROVED, courses=DEGREE, protection="none"),
    Case("new, degree", APPROVED, courses=DEGREE, protection="none"),
    Case("new, degree", APPROVED, courses=DEGREE, protection="none"),
    Case("new, degree, protected identity", APPROVED, courses=DEGREE, protection="protected"),
    Case("new, 7.5 credits", NOT_APPROVED, courses=FEW_CREDITS, protection="none"),
    Case("new, unknown to the registries", NOT_APPROVED),
)


@dataclass(frozen=True)
class Person(WorkloadPerson[Case]):
    """A person of the workload and the registration the form creates for them."""

    @property
    def email(self) -> str:
        return f"person{self.index}@example.org"

    def form(self) -> dict[str, Any]:
        """The registration row the self-service form creates (the number as people type it)."""
        number = self.national_id
        columns: dict[str, Any] = {
            REG.name: f"registration {self.index}",
            REG.kind: REG.kind_values[next(iter(REG.kind_values))],
            REG.status: RECEIVED,
            REG.first_name: "Bench",
            REG.last_name: f"Person{self.index}",
            REG.email: self.email,
        }
        if self.case.number_on_form:
            columns[REG.national_id] = f"{number[2:8]}-{number[8:]}"
        return columns


def people(first: int, count: int) -> list[Person]:
    """``count`` people from index ``first``, the cases in turn."""
    return [Person(i, CASES[i % len(CASES)]) for i in range(first, first + count)]


def seed(everyone: list[Person]) -> dict[str, Any]:
    """The sandbox seed: the review team, the people already in Dataverse, the registries."""
    contacts, ladok, navet = [], {}, {}
    for person in everyone:
        case = person.case
        if case.categories is not None:
            contacts.append({
                CONTACT.first_name: "Bench", CONTACT.last_name: f"Person{person.index}",
                CONTACT.emails[0]: person.email, CONTACT.national_id: person.national_id,
                CONTACT.categories: CONTACT.categories_text(case.categories),
            })
        registry_name = {"first_name": "Bench", "last_name": f"Person{person.index}"}
        if case.courses is not None:
            ladok[person.national_id] = {**registry_name, "courses": case.courses}
        if case.protection is not None:
            navet[person.national_id] = {**registry_name, "protection": case.protection,
                                         "addresses": ADDRESS}
    return {
        "rows": {"team": [{"teamid": TEAM_ID, "name": "Alumni office"}],
                 CONTACT.table: contacts},
        "registries": {"ladok": ladok, "navet": navet},
    }


# ------------------------------------------------------------------------- the naive way


_ROW_URL = re.compile(r"^(?P<set>\w+)\((?P<key>.+)\)$")


class OneCallPerStep(RegistrationRepository):
    """The product's reads and writes, each lookup and each write a request of its own.

    This is what a Power Automate flow or a hand-written script does: get the registration,
    list contacts by identity number, list contacts by e-mail, then create or update the
    contact, update the registration and create the task one after the other. The writes are
    the operations of the product's own change set, sent one by one (so not atomically).
    """

    def read_for_decision(
        self, registration_id: str, lookup: ContactLookup | None
    ) -> DecisionRead:
        """GET the registration, then the contacts (one GET per lookup)."""
        m = self.schema.registration
        with _one_call_errors():
            try:
                row = self.client.get(m.entity_set, registration_id,
                                      select=registration_columns(m))
            except NotFoundError as exc:
                raise RegistrationGone(str(exc)) from exc
        record = registration_record(row or {}, self.schema)
        contacts = self.read_contacts(lookup) if lookup is not None else ()
        return DecisionRead(record=record, lookup=lookup, contacts=contacts)

    def read_contacts(self, lookup: ContactLookup) -> tuple[ContactRecord, ...]:
        """One GET by identity number and one by e-mail address (as far as each is known)."""
        c, m = self.schema.contact, self.schema.registration
        clauses = []
        if lookup.national_id is not None:
            clauses.append(odata.eq(c.national_id, lookup.national_id))
        if lookup.email is not None:
            clauses.append(odata.or_(*(odata.eq(column, lookup.email) for column in c.emails)))
        expand = (
            [odata.Expand(m.person_registrations_nav, select=[m.id, m.status])]
            if lookup.with_registrations else []
        )
        found: dict[str, ContactRecord] = {}
        for clause in clauses:
            with _one_call_errors():
                rows = list(self.client.query(c.entity_set, select=contact_columns(c),
                                              filter=clause, expand=expand))
            found.update((r.person.id, r) for r in self._contacts({"value": rows}))
        return tuple(found.values())

    def apply(self, batch: BatchRequest) -> list[BatchPartResult]:
        """Each write of the change set as its own request, in order; rows created earlier
        are bound by their URL where the change set said ``$n``."""
        written: dict[str, str] = {}
        for operation in _writes(batch):
            body = {name: written.get(value, value) if isinstance(value, str) else value
                    for name, value in (operation.body or {}).items()}
            with _one_call_errors():
                written[f"${operation.content_id}"] = "/" + self._send_one(operation, body)
        return []

    def _send_one(self, operation: BatchOperation, body: Mapping[str, Any]) -> str:
        """Send one write through the client's plain calls; the written row's URL."""
        if operation.method == "POST":
            result = self.client.create(operation.url, body)
            if result.id is None:
                raise TransientFailure(f"POST {operation.url} did not say what it created")
            return odata.entity_path(operation.url, result.id)
        entity_set, key = _row_address(operation.url)
        if operation.headers.get("If-None-Match") == "*":
            self.client.upsert(entity_set, key, body, mode=UpsertMode.CREATE_ONLY)
        else:
            self.client.update(entity_set, key, body,
                               if_match=operation.headers.get("If-Match", "*"))
        return operation.url


def _writes(batch: BatchRequest) -> Iterator[BatchOperation]:
    for item in batch.items:
        if isinstance(item, ChangeSet):
            yield from item.operations
        else:
            yield item


def _row_address(url: str) -> tuple[str, odata.Key]:
    """``(entity set, key)`` of a row URL the product built: a GUID or one string column."""
    match = _ROW_URL.match(unquote(url))
    if match is None:
        raise ValueError(f"not a row URL: {url}")
    key = match["key"]
    column, equals, literal = key.partition("=")
    if not equals:
        return match["set"], key
    return match["set"], {column: literal[1:-1].replace("''", "'")}


@contextmanager
def _one_call_errors() -> Iterator[None]:
    """The client's errors as the service expects them from its repository."""
    try:
        yield
    except (PreconditionFailedError, NotFoundError) as exc:
        raise StaleWrite(str(exc)) from exc
    except TECHNICAL as exc:
        raise TransientFailure(f"Dataverse: {type(exc).__name__}") from exc


def naive_service(settings: Settings) -> RegistrationService:
    """The product's service and decisions over :class:`OneCallPerStep`."""
    client = DataverseClient(
        settings.dataverse.model_copy(update={"write_tag": settings.registration.write_tag})
    )
    service = RegistrationService(
        client, settings.registration, settings.schema_map,
        registries=Registries.from_adapters(build_adapters(settings.registries),
                                            settings.registration),
    )
    service.repository = OneCallPerStep(
        client, settings.schema_map, settings.registration.national_id_country
    )
    return service


class QueueWorkers:
    """``concurrency`` threads that take events off the queue and hand each to ``handle``,
    completing the message when it returns and abandoning it when it raises (as the
    Functions host does with ``autoCompleteMessages``)."""

    def __init__(
        self, sandbox: Sandbox, handle: Callable[[Message], None], concurrency: int
    ) -> None:
        self._queue = sandbox.servicebus.queue(QUEUE)
        self._handle = handle
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._work, name=f"naive-worker-{i}",
                                          daemon=True) for i in range(concurrency)]

    def __enter__(self) -> QueueWorkers:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def _work(self) -> None:
        while not self._stop.is_set():
            message = self._queue.receive(timeout=0.1)
            if message is None or message.lock_token is None:
                continue
            try:
                self._handle(message)
            except Exception:
                self._queue.abandon(message.sequence_number, message.lock_token)
            else:
                self._queue.complete(message.sequence_number, message.lock_token)


def naive_handler(service: RegistrationService) -> Callable[[Message], None]:
    """What the naive worker does with one message: the service, one call per step."""

    def handle(message: Message) -> None:
        try:
            event = parse_servicebus(message.body, message.application_properties)
        except EventParseError:
            return
        service.handle_event(event)

    return handle


# ------------------------------------------------------------------------------ running


@dataclass
class Run:
    """What one way of handling the workload measured."""

    name: str
    registrations: int
    seconds: float
    requests: int
    refused: int
    statuses: Counter[str] = field(default_factory=Counter)
    unexpected: int = 0  # registrations whose status is not the one the rules give

    @property
    def per_second(self) -> float:
        return self.registrations / self.seconds

    @property
    def requests_per_registration(self) -> float:
        return self.requests / self.registrations

    def ceiling(self, limits: Limits) -> float:
        """Registrations/s the sustained request limit allows at this many requests each."""
        return limits.requests / limits.window_seconds / self.requests_per_registration


Consumers = Callable[[], AbstractContextManager[object]]


@dataclass(frozen=True)
class Submitted:
    """A registration the benchmark created, and the status the rules give it."""

    correlation_id: str
    registration_id: str
    expected: Status


class Bench:
    """The started sandbox, the administrator's client and the scaled limits."""

    def __init__(self, sandbox: Sandbox, admin: DataverseClient, limits: Limits) -> None:
        self.sandbox = sandbox
        self.admin = admin
        self.limits = limits

    def run(self, name: str, workload: list[Person], consumers: Consumers) -> Run:
        """Queue the workload's events, then let ``consumers`` handle them under the limits."""
        protection = self.sandbox.protection
        protection.configure(limits=UNLIMITED)
        submitted = self._submit(workload)
        registration_ids = [s.registration_id for s in submitted]
        if not self.sandbox.steps.wait_idle(120):
            raise RuntimeError("the steps did not deliver every event to the queue")
        protection.configure(limits=self.limits)
        # The benchmark's own creates leave the window before it is primed.
        time.sleep(self.limits.window_seconds + 0.1)
        self._prime()
        started_at = time.time()
        started = time.perf_counter()
        with consumers():
            self._wait_final(registration_ids, timeout=60 + 2.0 * len(workload))
            seconds = time.perf_counter() - started
            self._settle()
        admitted, refused = self._requests({s.correlation_id for s in submitted}, started_at)
        statuses = {s.registration_id: REG.status_of(self._status(s.registration_id))
                    for s in submitted}
        return Run(name, len(workload), seconds, admitted, refused,
                   Counter(str(status) for status in statuses.values()),
                   sum(1 for s in submitted if statuses[s.registration_id] is not s.expected))

    def _submit(self, workload: list[Person]) -> list[Submitted]:
        """Create the registrations as the form does."""

        def create(person: Person) -> Submitted:
            correlation_id = str(uuid.uuid4())
            with self.admin.correlation(correlation_id):
                created = self.admin.create(REG.entity_set, person.form())
            if created.id is None:
                raise RuntimeError("the sandbox did not say which registration it created")
            return Submitted(correlation_id, created.id, person.case.expected)

        with ThreadPoolExecutor(SUBMITTERS) as pool:
            return list(pool.map(create, workload))

    def _prime(self) -> None:
        """Spend the window's budget evenly over one window, as an environment already busy
        at the limit would have: slots then come free at the sustained rate, and a run cannot
        borrow the burst a fresh window allows."""
        limits = self.limits
        gap = limits.window_seconds / limits.requests
        start = time.perf_counter()
        for index in range(limits.requests):
            time.sleep(max(0.0, start + index * gap - time.perf_counter()))
            self.admin.call_function("WhoAmI")

    def _wait_final(self, registration_ids: list[str], timeout: float) -> None:
        """Poll the store (no Web API request) until no registration is Received."""
        deadline = time.monotonic() + timeout
        pending = set(registration_ids)
        while pending:
            pending = {i for i in pending if self._status(i) == RECEIVED}
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(pending)} registrations still Received")
            time.sleep(0.02)

    def _settle(self) -> None:
        """Let the events the pipeline's own writes caused pass (they are skipped)."""
        queue = self.sandbox.servicebus.queue(QUEUE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            self.sandbox.steps.wait_idle(10)
            if queue.active_count() == 0:
                return
            time.sleep(0.05)
        raise RuntimeError("the queue did not drain")

    def _status(self, registration_id: str) -> int | None:
        row = self.sandbox.store.get(REG.table, registration_id)
        return row.values.get(REG.status) if row else None

    def _requests(self, correlation_ids: set[str], since: float) -> tuple[int, int]:
        """Web API requests of the run's events: (admitted, refused with 429)."""
        entries = [
            e for e in self.sandbox.request_log.entries()
            if e.path.startswith(API_PATH) and e.at >= since
            and e.correlation_id in correlation_ids
        ]
        refused = sum(1 for e in entries if e.status == THROTTLED)
        return len(entries) - refused, refused


def scaled_limits(scale: float) -> Limits:
    """Dataverse's limits with the window and its budgets divided by ``scale``."""
    return Limits(
        requests=round(DATAVERSE_LIMITS.requests / scale),
        window_seconds=DATAVERSE_LIMITS.window_seconds / scale,
        execution_ms=round(DATAVERSE_LIMITS.execution_ms / scale),
        concurrency=DATAVERSE_LIMITS.concurrency,
    )


BATCH_SIZE_SETTING = "AzureFunctionsJobHost__extensions__serviceBus__maxMessageBatchSize"


def run(
    count: int, limits: Limits, latency_ms: int, batch_sizes: tuple[int, ...] = ()
) -> tuple[Run, Run, int, list[tuple[int, Run]]]:
    """Both ways on their own ``count`` people, then the product once per batch size;
    (product, naive, concurrency used, sweep)."""
    concurrency = HostConfig.from_folder(ROOT).max_concurrent_calls
    # Imported once before measuring; its import sets up logging, which a benchmark keeps to
    # errors (every 429 retried is a warning).
    load_app(str(FUNCTION_APP))
    configure_logging(logging.ERROR)
    product_people, naive_people = people(0, count), people(count, count)
    sweep_people = [people(count * (2 + n), count) for n in range(len(batch_sizes))]
    everyone = product_people + naive_people + [p for group in sweep_people for p in group]
    with tempfile.TemporaryDirectory(prefix="bench-registration-") as state:
        config = SandboxConfig(https=True, state_dir=state, latency_ms=latency_ms,
                               limits=UNLIMITED)
        with Sandbox(config, seed=seed(everyone)) as sandbox:
            settings = app_settings(sandbox, Path(state) / "maskinporten-key.pem")
            with DataverseClient(dataverse_settings(sandbox)) as admin:
                register(admin, RegistrationOptions(
                    QueueDelivery(f"sb://{config.host}/", QUEUE, "sandbox", "sandbox"), MAP))
                bench = Bench(sandbox, admin, limits)

                def host() -> LocalHost:
                    return LocalHost(str(FUNCTION_APP), settings=settings,
                                     servicebus_ca_bundle=sandbox.ca_file)

                product = bench.run("product: batched $batch reads + writes", product_people, host)
                overlay = EnvironmentOverlay(settings)
                overlay.apply()
                try:
                    service = naive_service(Settings())
                finally:
                    overlay.restore()
                with service.client:
                    naive = bench.run(
                        "naive: one call per lookup and write", naive_people,
                        lambda: QueueWorkers(sandbox, naive_handler(service), concurrency),
                    )
                sweep = []
                for size, group in zip(batch_sizes, sweep_people, strict=True):
                    sized = {**settings, BATCH_SIZE_SETTING: str(size)}

                    def sized_host(values: dict[str, str] = sized) -> LocalHost:
                        return LocalHost(str(FUNCTION_APP), settings=values,
                                         servicebus_ca_bundle=sandbox.ca_file)

                    sweep.append((size, bench.run(f"batch size {size}", group, sized_host)))
    return product, naive, concurrency, sweep


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run both ways and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=150, help="registrations per way")
    parser.add_argument("--limit-scale", type=float, default=30,
                        help="divide Dataverse's 300 s window and its budgets by this")
    parser.add_argument("--latency-ms", type=int, default=20, help="injected per request")
    parser.add_argument("--batch-sizes", default="",
                        help="comma-separated maxMessageBatchSize values to sweep")
    args = parser.parse_args(argv)
    limits = scaled_limits(args.limit_scale)
    sizes = tuple(int(size) for size in args.batch_sizes.split(",") if size.strip())
    product, naive, concurrency, sweep = run(args.count, limits, args.latency_ms, sizes)

    rate = limits.requests / limits.window_seconds
    print(f"registration throughput, Service Bus path, {args.count} registrations per way, "
          f"{args.latency_ms} ms latency")
    print(f"  limits: {limits.requests} requests and {limits.execution_ms:,} ms per "
          f"{limits.window_seconds:g} s window, {limits.concurrency} concurrent (Dataverse's "
          f"6000 / 1,200,000 ms / 300 s divided by {args.limit_scale:g}: {rate:g} requests/s)")
    batch_size = HostConfig.from_folder(ROOT).max_message_batch_size
    print(f"  product: maxMessageBatchSize {batch_size} (host.json); the naive way runs "
          f"{concurrency} workers (maxConcurrentCalls)")
    for result in (product, naive):
        ceiling = result.ceiling(limits)
        print(f"  {result.name:<38} {result.per_second:6.2f} registrations/s  "
              f"{result.requests_per_registration:4.2f} requests each  "
              f"ceiling {ceiling:5.2f}/s  reached {result.per_second / ceiling:4.0%}  "
              f"({result.refused} refused with 429, {result.seconds:.1f} s)")
    for result in (product, naive):
        statuses = ", ".join(f"{name} {n}" for name, n in sorted(result.statuses.items()))
        print(f"  {result.name.split(':')[0]} decisions: {statuses}; "
              f"{result.unexpected} not the status the rules give")
    print(f"  ratio: {product.per_second / naive.per_second:.1f}x the registrations per second "
          f"with {naive.requests_per_registration / product.requests_per_registration:.1f}x "
          "fewer requests each")
    if sweep:
        print("  batch-size sweep (the product's way, each on its own people):")
        print(f"    {'batch size':>10}{'requests/reg':>14}{'reg/s':>8}{'429s':>6}{'wrong':>7}")
        for size, result in sweep:
            print(f"    {size:>10}{result.requests_per_registration:14.3f}"
                  f"{result.per_second:8.2f}{result.refused:6d}{result.unexpected:7d}")


if __name__ == "__main__":
    main()
