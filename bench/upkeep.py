"""Register upkeep of N contacts, in batches vs one update per contact, and lifecycle scheduling.

Starts a sandbox in-process (plain HTTP on 127.0.0.1) whose Folkeregisteret emulator knows
every person (bulk rights package: 100 people per registry request), creates N stale
contacts and refreshes them with :class:`~plugins.sync.upkeep.RegisterUpkeep` (one
``UpdateMultiple`` per batch). For comparison, in the same run, a smaller sample of stale
contacts is refreshed with one ``PATCH`` per contact; its figures are extrapolated to N
(linearly, which is what one request per contact gives). Dataverse's request limit is
lifted in the sandbox so the per-contact run measures round trips, not throttling; against
a real environment 100,000 single PATCHes would also run into the limit of 6,000 requests
per 5 minutes. Peak memory is the highest resident size of the process (sandbox and all)
during the run, above what it was when the run started.

Then the pure lifecycle scheduling step is timed for N memberships.

    python -m bench.upkeep [--count 100000] [--sample 2000] [--batch-size 1000]
"""

from __future__ import annotations

import argparse
import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from stdnum.no import fodselsnummer

from plugins.core.schema_map import SchemaMap
from plugins.core.settings import DataverseSettings, RegistrySettings, SyncSettings
from plugins.dataverse.client import DataverseClient
from plugins.registries.factory import build_adapters
from plugins.registries.models import RegistryName
from plugins.registries.protocol import RegistryAdapter
from plugins.sync.enrichment import enrichment_patch
from plugins.sync.lifecycle import (
    LifecycleRules,
    Membership,
    MembershipStatus,
    catch_up_window,
    schedule,
)
from plugins.sync.repository import MappedTable, Tombstones
from plugins.sync.upkeep import RegisterUpkeep
from sandbox.app import Sandbox
from sandbox.config import Limits, SandboxConfig

from .registration_burst import MemoryPeak

SCHEMA = SchemaMap()
CONTACTS = MappedTable.of(SCHEMA.contact)
NOW = datetime(2025, 6, 23, 1, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Run:
    name: str
    contacts: int
    dataverse_requests: dict[str, int]
    registry_requests: int
    seconds: float
    peak_memory_mib: float

    @property
    def total(self) -> int:
        return sum(self.dataverse_requests.values())


class _Tokens:
    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox

    def token(self, *, force_refresh: bool = False) -> str:
        return self._sandbox.auth.issue_token()


def norwegian_numbers(count: int, offset: int = 0) -> list[str]:
    """``count`` distinct valid fødselsnumre (born 1950-1999)."""
    numbers: list[str] = []
    index = offset
    while len(numbers) < count:
        born = date(1950, 1, 1) + timedelta(days=index % 18000)
        base = born.strftime("%d%m%y") + f"{index // 18000 % 500:03d}"
        index += 1
        first = fodselsnummer.calc_check_digit1(base)
        if len(first) != 1:
            continue
        second = fodselsnummer.calc_check_digit2(base + first)
        if len(second) == 1:
            numbers.append(base + first + second)
    return numbers


def _seed(sandbox: Sandbox, numbers: list[str]) -> None:
    home = {"kind": "registered", "lines": ["Storgata 1"], "postal_code": "0155", "city": "OSLO"}
    people: dict[str, Any] = {}
    for position, number in enumerate(numbers):
        person: dict[str, Any] = {"first_name": f"Person{position}", "last_name": "Nordmann"}
        if position % 50 == 0:
            person["protection"] = "protected"
        else:
            person["addresses"] = [home]
        if position % 97 == 0:
            person["deceased_on"] = "2024-01-01"
        people[number] = person
    sandbox.registries.load_seed({"folkeregisteret": people})


def _create_contacts(client: DataverseClient, numbers: list[str]) -> None:
    records = [{"firstname": "Old", "lastname": "Name", "mp_nationalid": n} for n in numbers]
    client.create_multiple(CONTACTS, records)


def _measure(
    name: str, sandbox: Sandbox, client: DataverseClient, contacts: int, work: Any
) -> Run:
    client.request_counter.reset()
    sandbox.registries.reset_stats()
    started = time.perf_counter()
    with MemoryPeak() as memory:
        work()
    seconds = time.perf_counter() - started
    registry = sandbox.registries.stats()["folkeregisteret"]["requests"]
    return Run(name, contacts, client.request_counter.by_method(), registry, seconds,
               memory.above_start)


def _per_contact(
    client: DataverseClient, upkeep: RegisterUpkeep, registry: RegistryAdapter
) -> None:
    """The same refresh with one PATCH per contact (the comparison)."""
    c = SCHEMA.contact
    rows = list(upkeep.stale_contacts(NOW))
    people = registry.lookup_many([str(row[c.national_id]) for row in rows])
    for row in rows:
        patch = enrichment_patch(people.get(str(row[c.national_id])), row, NOW, c)
        client.update(CONTACTS, str(row[c.id]), patch)


def run_upkeep(count: int, sample: int, batch_size: int) -> tuple[Run, Run]:
    """(per-contact run on ``sample`` contacts, batched run on ``count`` contacts)."""
    limits = Limits(requests=10 * (count + sample) + 10_000)
    numbers = norwegian_numbers(count + sample)
    with TemporaryDirectory(prefix="bench-upkeep-") as state, Sandbox(
        SandboxConfig(limits=limits, state_dir=state)
    ) as sandbox:
        _seed(sandbox, numbers)
        registries = sandbox.registries.client_settings(Path(state) / "maskinporten.pem")
        registry = build_adapters(
            RegistrySettings(http=registries.http, folkeregisteret=registries.folkeregisteret)
        )[RegistryName.FOLKEREGISTERET]
        settings = DataverseSettings(url=sandbox.base_url, bulk_chunk_size=batch_size)
        with DataverseClient(settings, token_provider=_Tokens(sandbox)) as client:
            upkeep = RegisterUpkeep(
                client,
                SCHEMA.contact,
                Tombstones(client, SCHEMA.tombstone),
                registry,
                SyncSettings.Upkeep(
                    enabled=True, batch_size=batch_size, max_contacts_per_run=count + sample
                ),
                "b" * 32,
            )
            _create_contacts(client, numbers[count:])
            single = _measure(
                "one PATCH per contact", sandbox, client, sample,
                lambda: _per_contact(client, upkeep, registry),
            )
            _create_contacts(client, numbers[:count])
            bulk = _measure(
                f"UpdateMultiple x{batch_size}", sandbox, client, count, lambda: upkeep.run(NOW)
            )
            stamped = sum(
                1 for row in sandbox.store.rows("contact") if row.values.get("mp_lastenrichedon")
            )
        registry.close()
    if stamped != count + sample:
        raise RuntimeError(f"expected {count + sample} refreshed contacts, found {stamped}")
    return single, bulk


def time_scheduling(count: int) -> tuple[float, int]:
    """Seconds the pure scheduling step takes for ``count`` memberships, and events found."""
    rng = random.Random(6)
    memberships = []
    births = {}
    for index in range(count):
        start = date(2000, 1, 1) + timedelta(days=rng.randrange(9300))
        end = None if index % 10 == 0 else start + timedelta(days=365 * rng.randrange(1, 30))
        person = f"{index:08d}-0000-4000-8000-000000000000"
        memberships.append(
            Membership(str(index), person, "standard", start, end, MembershipStatus.ACTIVE,
                       index % 3 == 0, index % 6 == 0)
        )
        births[person] = date(1950, 1, 1) + timedelta(days=rng.randrange(20000))
    rules = LifecycleRules()
    window = catch_up_window(date(2025, 6, 20), date(2025, 6, 23), rules)
    started = time.perf_counter()
    plan = schedule(memberships, window, rules, birth_dates=births)
    return time.perf_counter() - started, len(plan.events)


def main(argv: list[str] | None = None) -> None:
    """Parse arguments, run both benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="contacts / memberships")
    parser.add_argument("--sample", type=int, default=2_000, help="contacts updated one by one")
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args(argv)

    single, bulk = run_upkeep(args.count, args.sample, args.batch_size)
    scale = bulk.contacts / single.contacts
    print("register upkeep, Folkeregisteret emulator (bulk look-up, 100 per request)")
    for result in (single, bulk):
        print(
            f"  {result.name:<24} {result.contacts:>7} contacts  Dataverse {result.total:>6} "
            f"requests {result.dataverse_requests}  registry {result.registry_requests:>5}  "
            f"{result.seconds:8.2f} s  peak memory +{result.peak_memory_mib:.1f} MiB"
        )
    print(
        f"  per contact, extrapolated to {bulk.contacts}: ~{single.total * scale:,.0f} Dataverse "
        f"requests, ~{single.seconds * scale:,.0f} s (measured on {single.contacts}, x{scale:.0f})"
    )
    print(
        f"  batched: {bulk.total / bulk.contacts * 1000:.2f} Dataverse requests per 1,000 "
        f"contacts; {single.total * scale / bulk.total:.0f}x fewer requests, "
        f"{single.seconds * scale / bulk.seconds:.1f}x faster than extrapolated per-contact"
    )
    seconds, events = time_scheduling(args.count)
    print(
        f"lifecycle scheduling (pure step): {args.count} memberships, 4-day window, "
        f"{events} events due, {seconds:.3f} s"
    )


if __name__ == "__main__":
    main()
