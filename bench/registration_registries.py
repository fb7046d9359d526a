"""Registry requests per registration for queue batches of Norwegian registrations: bulk vs
person by person.

Starts the sandbox in-process (HTTPS, no injected latency, limits lifted) as a Norwegian
institution's: FS the student register, Folkeregisteret the population register. Each way
decides its own ``--count`` registrations with the product's batch path
(:class:`~plugins.registration.batches.BatchProcessor`, in parts of
``REGISTRATION__BATCH_PART_SIZE`` as the queue trigger decides a batch), the same kinds of
people in both: two in ten already in Dataverse (matched by identity number: never looked
up), the others new; FS knows half of the new ones with a degree, Folkeregisteret nine in ten.

1. bulk: Folkeregisteret's rights package ``offentlig-med-hjemmel``, one ``bulkoppslag``
   per part for the people nobody matched;
2. per person: ``offentlig-uten-hjemmel``, which has no bulk look-up: one GET per person.

FS has no batch look-up, so it is asked person by person both ways. Printed per way: each
register's requests per registration and the people it looked up (Maskinporten's token
requests apart), and the decisions, which must be the same both ways.

    python -m bench.registration_registries [--count 200]
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from plugins.core.settings import Settings
from plugins.dataverse.client import DataverseClient
from plugins.identity import Country
from plugins.registration.batches import BatchProcessor
from plugins.registration.model import Category
from plugins.registration.registry_facts import Registries
from plugins.registration.service import RegistrationService
from plugins.registries.factory import build_adapters
from sandbox.app import Sandbox
from sandbox.config import SandboxConfig
from sandbox.demo import TEAM_ID, app_settings
from sandbox.host.config import EnvironmentOverlay
from sandbox.local_settings import registry_settings
from sandbox.registries.folkeregisteret import SCOPES

from .registration_throughput import CONTACT, RECEIVED, REG, UNLIMITED
from .upkeep import norwegian_numbers

BULK, PER_PERSON = "offentlig-med-hjemmel", "offentlig-uten-hjemmel"
DEGREE = [{"code": "MAMN", "title": "Master i matematikk", "awarded_on": "2015-06-20"}]
HOME = [{"kind": "registered", "lines": [], "postal_code": "0155", "city": "OSLO"}]
REGISTERS = ("folkeregisteret", "fs")
ALUMNUS = frozenset({Category.ALUMNUS})
NAME = {"first_name": "Bench", "last_name": "Nordmann"}


@dataclass(frozen=True)
class Way:
    """What deciding one way's registrations cost the registries."""

    name: str
    registrations: int
    requests: dict[str, int]
    looked_up: dict[str, int]  # people, by register
    decisions: Counter[str]
    part_size: int

    def per_registration(self, register: str) -> float:
        return self.requests[register] / self.registrations


def kind(position: int) -> str:
    """Person ``position``'s kind, in turn: matched, or new and known to the registers."""
    return ("member", "member", "graduate", "graduate", "graduate", "graduate", "population",
            "population", "population", "unknown")[position % 10]


def seed(ways: list[list[str]]) -> dict[str, Any]:
    """Dataverse's people (the members) and what FS and Folkeregisteret know, for each
    way's numbers (the kinds by position, so each way has the same)."""
    contacts, fs, folkeregisteret = [], {}, {}
    for numbers in ways:
        for position, number in enumerate(numbers):
            if kind(position) == "member":
                contacts.append({CONTACT.first_name: "Bench", CONTACT.last_name: "Nordmann",
                                 CONTACT.national_id: number, CONTACT.emails[0]: email(number),
                                 CONTACT.categories: CONTACT.categories_text(ALUMNUS)})
            if kind(position) == "graduate":
                fs[number] = {**NAME, "degrees": DEGREE}
            if kind(position) in ("graduate", "population"):
                folkeregisteret[number] = {**NAME, "protection": "none", "addresses": HOME}
    return {"rows": {"team": [{"teamid": TEAM_ID, "name": "Alumni office"}],
                     CONTACT.table: contacts},
            "registries": {"fs": fs, "folkeregisteret": folkeregisteret}}


def email(number: str) -> str:
    return f"n{number}@example.org"


def service_for(sandbox: Sandbox, key_file: Path, package: str) -> RegistrationService:
    """The product's service as a Norwegian institution with ``package`` configures it."""
    overlay = EnvironmentOverlay(app_settings(sandbox, key_file))
    overlay.apply()
    try:
        settings = Settings()
    finally:
        overlay.restore()
    registration = settings.registration.model_copy(update={
        "national_id_country": Country.NO, "student_registry": "fs",
        "population_registry": "folkeregisteret",
    })
    registries = registry_settings(sandbox, key_file)
    registries = registries.model_copy(update={
        "folkeregisteret": registries.folkeregisteret.model_copy(
            update={"rights_package": package, "scope": SCOPES[package]}
        )
    })
    client = DataverseClient(
        settings.dataverse.model_copy(update={"write_tag": registration.write_tag})
    )
    return RegistrationService(
        client, registration, settings.schema_map,
        registries=Registries.from_adapters(build_adapters(registries), registration),
    )


def run_way(sandbox: Sandbox, key_file: Path, name: str, package: str,
            numbers: list[str]) -> Way:
    """Create the registrations of ``numbers`` and decide them in the queue trigger's parts."""
    service = service_for(sandbox, key_file, package)
    with service.client:
        ids = [
            str(service.client.create(REG.entity_set, {
                REG.name: "registration", REG.status: RECEIVED,
                REG.first_name: "Bench", REG.last_name: "Nordmann",
                REG.email: email(number), REG.national_id: f"{number[:6]} {number[6:]}",
            }).id)
            for number in numbers
        ]
        emulators = sandbox.registries
        emulators.reset_stats()
        processor = BatchProcessor(service)
        size = service.settings.batch_part_size
        for start in range(0, len(ids), size):
            processor.process(dict.fromkeys(ids[start : start + size]))
        stats = emulators.stats()
    service.registries.close()
    return Way(
        name, len(ids),
        {r: stats[r]["requests"] for r in REGISTERS},
        {r: len(set(getattr(emulators, r).looked_up())) for r in REGISTERS},
        Counter(_status(sandbox, i) for i in ids),
        size,
    )


def _status(sandbox: Sandbox, registration_id: str) -> str:
    row = sandbox.store.get(REG.table, registration_id)
    return str(REG.status_of(row.values[REG.status])) if row else "gone"


def main(argv: list[str] | None = None) -> None:
    """Decide both ways' registrations and print the registry requests side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="registrations per way")
    args = parser.parse_args(argv)
    numbers = list(norwegian_numbers(2 * args.count))
    bulk_numbers, single_numbers = numbers[: args.count], numbers[args.count :]
    with tempfile.TemporaryDirectory(prefix="bench-registries-") as state:
        config = SandboxConfig(https=True, state_dir=state, limits=UNLIMITED)
        with Sandbox(config, seed=seed([bulk_numbers, single_numbers])) as sandbox:
            key_file = Path(state) / "maskinporten-key.pem"
            ways = (
                run_way(sandbox, key_file, f"bulk ({BULK})", BULK, bulk_numbers),
                run_way(sandbox, key_file, f"per person ({PER_PERSON})", PER_PERSON,
                        single_numbers),
            )
    bulk, single = ways
    print(f"registry requests per registration, queue batches of Norwegian registrations, "
          f"{args.count} per way, parts of {bulk.part_size} (FS + Folkeregisteret; 2 in 10 matched "
          "in Dataverse, never looked up)")
    for way in ways:
        shares = "  ".join(
            f"{r} {way.per_registration(r):.3f} ({way.requests[r]} requests, "
            f"{way.looked_up[r]} people)" for r in REGISTERS
        )
        total = sum(way.requests.values()) / way.registrations
        print(f"  {way.name:<36} {total:.3f} requests each: {shares}")
    same = "the same" if bulk.decisions == single.decisions else "DIFFERENT"
    decisions = ", ".join(f"{name} {n}" for name, n in sorted(bulk.decisions.items()))
    print(f"  decisions: {decisions} ({same} both ways)")
    one_each, in_bulk = single.requests["folkeregisteret"], bulk.requests["folkeregisteret"]
    print(f"  Folkeregisteret: {in_bulk} requests in bulk (one per part) vs {one_each} one per "
          f"person: {one_each / max(1, in_bulk):.0f}x fewer")

if __name__ == "__main__":
    main()
