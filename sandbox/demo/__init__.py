"""The demo: the whole product against an embedded sandbox, every registration status shown.

It starts the sandbox (HTTPS, seeded with people and registry data from ``seed.json``) and
the local Functions host over ``function_app.py``, registers the product's steps through the
Web API exactly as an administrator would (``member-plugins register``, Service Bus delivery),
then plays the alumni office's day: registrations arrive as the self-service form creates
them, an administrator decides two manual reviews, two alumni unregister. It waits for the
pipeline and prints each registration's status, reason and the Web API requests it took,
and exits non-zero if any status differs from what the registration rules prescribe.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from plugins.admin.endpoint import QueueDelivery
from plugins.admin.steps import RegistrationOptions, register
from plugins.core.logging import configure_logging
from plugins.core.schema_map import SchemaMap
from plugins.dataverse.client import DataverseClient
from plugins.registration.model import SWEDISH_NAMES, Status

from ..app import Sandbox
from ..config import SandboxConfig
from ..host import LocalHost
from ..local_settings import registry_settings
from ..product_settings import dataverse_settings, dataverse_values, servicebus_connection_string
from ..webapi.context import API_PATH
from .degrees import degree_feed_part
from .dues import run_dues_demo
from .office import print_review_queue

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "mp-registration-events"
TEAM_ID = "5e1f0000-0000-4000-8000-00000000a1a1"
ALUMNI_RULE = {"any_of": [{"kind": "degree_awarded"}, {"kind": "min_credits", "credits": 60}]}
MAP = SchemaMap()
REG = MAP.registration


@dataclass(frozen=True)
class Submission:
    """One form submission of the demo and the status the registration rules give it."""

    label: str
    expected: Status
    columns: dict[str, Any]


REGISTRATIONS = (
    Submission("Anna, already a registered alumna", Status.APPROVED_REGISTERED_ALUMNUS,
               {"mp_firstname": "Anna", "mp_lastname": "Andersson",
                "mp_email": "anna.andersson@example.org", "mp_nationalid": "850312-2387"}),
    Submission("Björn, an alumnus in the register", Status.APPROVED_ALUMNUS,
               {"mp_firstname": "Björn", "mp_lastname": "Berg",
                "mp_email": "bjorn.berg@example.org", "mp_nationalid": "19880901-4577"}),
    Submission("Cecilia, known only as a student", Status.NOT_APPROVED,
               {"mp_firstname": "Cecilia", "mp_lastname": "Carlsson",
                "mp_email": "cecilia.carlsson@example.org", "mp_nationalid": "197906051144"}),
    Submission("David, new; Ladok: 60 credits", Status.APPROVED_ALUMNUS,
               {"mp_firstname": "David", "mp_lastname": "Dahl",
                "mp_email": "david.dahl@example.org", "mp_nationalid": "198107306717",
                "mp_topics": "100000000,100000001", "mp_channels": "100000000"}),
    Submission("Ingrid, new; 120 credits, protected identity", Status.APPROVED_ALUMNUS,
               {"mp_firstname": "Ingrid", "mp_lastname": "Isaksson",
                "mp_email": "ingrid.isaksson@example.org", "mp_nationalid": "198311022241"}),
    Submission("Eva, new; Ladok: 7.5 credits, no degree", Status.NOT_APPROVED,
               {"mp_firstname": "Eva", "mp_lastname": "Ek", "mp_email": "eva.ek@example.org",
                "mp_nationalid": "199202183423"}),
    Submission("Fredrik, new; unknown to the registries", Status.NOT_APPROVED,
               {"mp_firstname": "Fredrik", "mp_lastname": "Fors",
                "mp_email": "fredrik.fors@example.org", "mp_nationalid": "197701117850"}),
    Submission("Gustav, number and e-mail disagree", Status.NOT_APPROVED,
               {"mp_firstname": "Gustav", "mp_lastname": "Gran",
                "mp_email": "gustav.gran@example.org", "mp_nationalid": "199006208939"}),
    Submission("Helena, identity number mistyped", Status.NOT_APPROVED,
               {"mp_firstname": "Helena", "mp_lastname": "Holm",
                "mp_email": "helena.holm@example.org", "mp_nationalid": "198503122388"}),
)
# Administrator decisions on registrations above (by label), in manual review.
DECISIONS = {
    "Eva, new; Ladok: 7.5 credits, no degree": Status.APPROVED_MANUALLY,
    "Fredrik, new; unknown to the registries": Status.DENIED,
}
# What the unregistration with "terminate membership" does to the person's registration.
TERMINATED = "Björn, an alumnus in the register"
UNREGISTRATIONS = (
    Submission("Anna unregisters, keeps the membership", Status.APPROVED_REGISTERED_ALUMNUS,
               {"mp_firstname": "Anna", "mp_lastname": "Andersson",
                "mp_email": "anna.andersson@example.org", "mp_terminatemembership": False}),
    Submission("Björn unregisters, terminates membership", Status.UNREGISTERED,
               {"mp_firstname": "Björn", "mp_lastname": "Berg",
                "mp_email": "bjorn.berg@example.org", "mp_terminatemembership": True}),
)


@dataclass
class Outcome:
    label: str
    expected: Status
    registration_id: str
    correlation_ids: list[str]


def _seed() -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath("seed.json").read_text("utf-8"))


def app_settings(sandbox: Sandbox, key_file: Path) -> dict[str, str]:
    """The demo's app settings against ``sandbox`` (also what the benchmarks run with)."""
    registries = registry_settings(sandbox, key_file)
    return {
        **dataverse_values(sandbox),
        "REGISTRIES": registries.model_dump_json(),
        "REGISTRATION__ALUMNI_RULE": json.dumps(ALUMNI_RULE),
        "REGISTRATION__STUDENT_REGISTRY": "ladok",
        "REGISTRATION__POPULATION_REGISTRY": "navet",
        "REGISTRATION__REVIEW_TEAM_ID": TEAM_ID,
        "REGISTRATION_QUEUE": QUEUE,
        "REGISTRATION_SWEEP_SCHEDULE": "0 */15 * * * *",
        "ServiceBusConnection": servicebus_connection_string(sandbox),
    }


class Demo:
    """The running demo: sandbox, host, an admin's client, and what was submitted."""

    def __init__(self, sandbox: Sandbox, host: LocalHost, client: DataverseClient) -> None:
        self.sandbox = sandbox
        self.host = host
        self.client = client
        self.outcomes: list[Outcome] = []

    def submit(self, submission: Submission, kind: int) -> Outcome:
        """Create the row as the self-service form does (status Received)."""
        correlation_id = str(uuid.uuid4())
        columns = {REG.name: submission.label, REG.kind: kind,
                   REG.status: REG.status_values[Status.RECEIVED], **submission.columns}
        with self.client.correlation(correlation_id):
            created = self.client.create(REG.entity_set, columns)
        outcome = Outcome(submission.label, submission.expected, created.id, [correlation_id])
        self.outcomes.append(outcome)
        return outcome

    def decide(self, outcome: Outcome, status: Status) -> None:
        """An administrator sets the status of a registration in manual review."""
        correlation_id = str(uuid.uuid4())
        with self.client.correlation(correlation_id):
            self.client.update(REG.entity_set, outcome.registration_id,
                               {REG.status: REG.status_values[status]})
        outcome.correlation_ids.append(correlation_id)
        outcome.expected = status

    def settle(self, timeout: float = 60.0) -> None:
        """Wait until no step delivery, queued message or function run is left."""
        deadline = time.monotonic() + timeout
        for _ in range(3):
            self.sandbox.steps.wait_idle(max(0.1, deadline - time.monotonic()))
            self.host.wait_idle(max(0.1, deadline - time.monotonic()))

    def requests_used(self, outcome: Outcome) -> int:
        """Web API requests the pipeline made for a registration (the demo's own excluded)."""
        log = self.sandbox.request_log
        made = sum(log.count(prefix=API_PATH, correlation_id=c) for c in outcome.correlation_ids)
        return made - len(outcome.correlation_ids)

    def requests_shown(self, outcome: Outcome) -> str:
        """The requests column: a queue batch's requests carry its first event's correlation
        id, so the other registrations decided in it show "in batch"."""
        used = self.requests_used(outcome)
        return str(used) if used else "in batch"

    def row(self, outcome: Outcome) -> dict[str, Any]:
        return self.client.get(
            REG.entity_set, outcome.registration_id, select=(REG.status, REG.reason)
        ) or {}


def _print_table(demo: Demo, title: str) -> bool:
    """One line per registration so far; False when a status is not the expected one."""
    lines = []
    all_good = True
    for outcome in demo.outcomes:
        row = demo.row(outcome)
        status = REG.status_of(row.get(REG.status))
        good = status is outcome.expected
        all_good &= good
        shown = f"{status.value} ({SWEDISH_NAMES[status]})" if status else "?"
        lines.append((outcome.label, shown, row.get(REG.reason) or "",
                      demo.requests_shown(outcome), "ok" if good else "UNEXPECTED"))
    headers = ("registration", "status", "reason", "requests", "check")
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]
    print()
    print(title)
    for cells in (headers, tuple("-" * w for w in widths), *lines):
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
    return all_good


def _summary(demo: Demo) -> None:
    store = demo.sandbox.store
    contact = MAP.contact
    protected = [
        r for r in store.rows(contact.table)
        if r.values.get(contact.protection_level) == contact.protection_values["protected"]
    ]
    open_tasks = [r for r in store.rows(MAP.task.table) if r.values.get(MAP.task.state) == 0]
    print()
    print(f"people in Dataverse: {store.count(contact.table)} "
          f"(seeded 5); open review tasks for the alumni office: {len(open_tasks)}")
    for row in protected:
        has_address = any(row.values.get(c) for c in (contact.address_line1, contact.city))
        print(f"protected identity {row.values.get(contact.first_name)}: address written: "
              f"{'YES (wrong)' if has_address else 'no'}")
    print(f"registry look-ups: {_registry_calls(demo.sandbox)}; "
          f"Service Bus dead letters: {len(demo.sandbox.servicebus.dead_letters(QUEUE))}")


def _registry_calls(sandbox: Sandbox) -> str:
    stats = sandbox.registries.stats()
    return ", ".join(f"{name} {s['requests']}" for name, s in stats.items() if s["requests"])


def run_demo() -> int:
    """Run the demo; 0 when every registration got the status the registration rules prescribe."""
    configure_logging(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="member-plugins-demo-") as state:
        config = SandboxConfig(https=True, state_dir=state)
        with Sandbox(config, seed=_seed()) as sandbox:
            print(f"sandbox (Dataverse + Ladok/Navet emulators) on {sandbox.base_url}")
            sys.path.insert(0, str(ROOT))
            host = LocalHost(
                "function_app",
                settings=app_settings(sandbox, Path(state) / "maskinporten-key.pem"),
                servicebus_ca_bundle=sandbox.ca_file,
            )
            with host, DataverseClient(dataverse_settings(sandbox)) as client:
                # Loading function_app set up INFO logging for Azure; the demo shows tables.
                configure_logging(logging.WARNING)
                print(f"Functions host on {host.base_url}")
                plan = register(client, RegistrationOptions(
                    QueueDelivery(f"sb://{config.host}/", QUEUE, "sandbox", "sandbox"), MAP))
                counts = ", ".join(f"{n} {a.value}" for a, n in plan.counts().items() if n)
                print(f"registered the product's steps through the Web API: {counts}")
                demo = Demo(sandbox, host, client)
                kinds = list(REG.kind_values)
                for submission in REGISTRATIONS:
                    demo.submit(submission, REG.kind_values[kinds[0]])
                demo.settle()
                checked = _print_table(demo, "1. The automatic check (registrations as submitted)")
                by_label = {o.label: o for o in demo.outcomes}
                for label, status in DECISIONS.items():
                    demo.decide(by_label[label], status)
                for submission in UNREGISTRATIONS:
                    demo.submit(submission, REG.kind_values[kinds[1]])
                by_label[TERMINATED].expected = Status.UNREGISTERED
                demo.settle()
                decided = _print_table(
                    demo, "2. After the office's decisions and two unregistrations "
                    "(requests: all runs of that registration)",
                )
                _summary(demo)
                degrees_right = degree_feed_part(demo)
                dues_right = run_dues_demo(sandbox, client, Path(state))
                print_review_queue(client, MAP)
                all_good = degrees_right and dues_right and checked and decided
    print()
    verdict = "every status as the registration rules prescribe"
    print(verdict if all_good else "SOME STATUSES ARE WRONG")
    return 0 if all_good else 1


