"""Privacy over a full run: the demo's whole scenario (every registration status, the office's
decisions, unregistrations) with every log record of the process captured.

Records are captured as they are created, before any handler's filter runs, so the
masking filter :func:`plugins.core.logging.configure_logging` installs cannot hide a leak: the
point is that the product never logs an identity number or an e-mail address in the first
place. The product's loggers log at DEBUG meanwhile. And no address is written, at any time,
for the person with a protected identity (every write of a contact is recorded).
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import re
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any, ClassVar

import pytest

import sandbox.demo as demo
from plugins.core.schema_map import SchemaMap
from sandbox.app import Sandbox
from sandbox.store import ChangeEvent

CONTACT = SchemaMap().contact
ADDRESS_COLUMNS = (CONTACT.address_line1, CONTACT.address_line2, CONTACT.postal_code,
                   CONTACT.city, CONTACT.country)
EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


class RecordedSandbox(Sandbox):
    """The demo's sandbox, kept for the test after the demo stops it, with every committed
    write of a contact recorded."""

    started: ClassVar[list[RecordedSandbox]] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.contact_writes: list[ChangeEvent] = []
        self.store.listeners.append(self)
        RecordedSandbox.started.append(self)

    def before_commit(self, events: list[ChangeEvent]) -> None:
        """Nothing: a transaction may still roll back."""

    def after_commit(self, events: list[ChangeEvent]) -> None:
        """Record the contact writes."""
        self.contact_writes += [e for e in events if e.table == CONTACT.table]


@dataclass(frozen=True)
class FullRun:
    """What the demo's run left: every log message, and its sandbox."""

    messages: list[str]
    sandbox: RecordedSandbox


@pytest.fixture(scope="module")
def full_run() -> Iterator[FullRun]:
    """Run the demo, capturing the text of every log record as created (unmasked)."""
    captured: list[str] = []
    create = logging.getLogRecordFactory()

    def capture(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = create(*args, **kwargs)
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        captured.append(f"{record.name}: {text}")
        return record

    product = logging.getLogger("plugins")
    level = product.level
    logging.setLogRecordFactory(capture)
    product.setLevel(logging.DEBUG)
    try:
        with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(io.StringIO()):
            patch.setattr(demo, "Sandbox", RecordedSandbox)
            assert demo.run_demo() == 0
    finally:
        logging.setLogRecordFactory(create)
        product.setLevel(level)
    yield FullRun(captured, RecordedSandbox.started[-1])


def seeded_identity_numbers() -> set[str]:
    """Every identity number the demo knows (seed and form), in every written form:
    12 and 10 digits, with and without the separator (``-``, ``+`` past a hundred)."""
    seed = json.loads(resources.files(demo).joinpath("seed.json").read_text("utf-8"))
    raw = [row[CONTACT.national_id] for row in seed["rows"]["contact"]
           if row.get(CONTACT.national_id)]
    raw += [number for registry in seed["registries"].values() for number in registry]
    raw += [s.columns["mp_nationalid"] for s in demo.REGISTRATIONS]
    forms: set[str] = set()
    for digits in (re.sub(r"\D", "", number) for number in raw):
        tens = {digits[-10:]}
        if len(digits) == 10:
            tens |= {"19" + digits, "20" + digits}
        twelves = {digits} if len(digits) == 12 else {"19" + digits, "20" + digits}
        for ten in tens:
            forms |= {ten, f"{ten[:6]}-{ten[6:]}", f"{ten[:6]}+{ten[6:]}"}
        for twelve in twelves:
            forms |= {twelve, f"{twelve[:8]}-{twelve[8:]}"}
    return forms


def test_a_full_run_logs_no_identity_number_and_no_email_address(full_run: FullRun) -> None:
    logged = "\n".join(full_run.messages)
    assert "plugins.registration.service: registration" in logged
    numbers = sorted(n for n in seeded_identity_numbers() if n in logged)
    assert numbers == []
    assert EMAIL.findall(logged) == []


def test_a_full_run_writes_no_address_for_a_protected_identity(full_run: FullRun) -> None:
    store = full_run.sandbox.store
    protected = {
        row.id for row in store.rows(CONTACT.table)
        if row.values.get(CONTACT.protection_level) == CONTACT.protection_values["protected"]
    }
    assert len(protected) == 1
    writes = [e for e in full_run.sandbox.contact_writes if e.row_id in protected]
    assert writes
    assert all(not e.target.get(column) for e in writes for column in ADDRESS_COLUMNS)
    assert all(not e.post.get(column) for e in writes if e.post for column in ADDRESS_COLUMNS)
