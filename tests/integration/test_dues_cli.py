"""``member-plugins payments import FILE`` against the sandbox (through msal, over TLS): the
figures printed, a second read that records nothing, a malformed line's number (exit 2)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from dues_harness import SETTINGS, add_type, approve_registration
from sync_harness import SCHEMA, add_contact, client_for, rows

from plugins.cli import main
from plugins.dues.service import DuesRun
from sandbox.app import Sandbox
from sandbox.bankfiles import write_bgmax
from sandbox.product_settings import dataverse_values


@pytest.fixture
def reference(https_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    for name, value in dataverse_values(https_sandbox, retry_backoff_seconds="0.02").items():
        monkeypatch.setenv(name, value)
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    with client_for(https_sandbox) as client:
        add_type(client)
        approve_registration(client, add_contact(client), datetime(2026, 1, 10, 1, tzinfo=UTC))
        DuesRun(client, SCHEMA, SETTINGS, "Alumni").run(datetime(2026, 1, 10, 3, tzinfo=UTC))
        yield str(next(iter(rows(client, SCHEMA.invoice.entity_set)))[SCHEMA.invoice.reference])
    root.setLevel(level)
    root.handlers[:] = handlers


def test_import_prints_what_it_did_and_reads_once(
    reference: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = write_bgmax(tmp_path / "BGMAX.txt",
                       [(reference, Decimal("450.00")), ("", Decimal("20.00"))])
    assert main(["payments", "import", str(bank)]) == 0
    out = capsys.readouterr().out
    assert "2 payments, 470.00 in total; 2 recorded, 1 matched to invoices, 1 on the review " \
           "list, 0 recorded before, 1 memberships extended" in out
    assert main(["payments", "import", str(bank)]) == 0
    assert "imported before; nothing recorded" in capsys.readouterr().out


def test_malformed_file_exits_2_with_the_line(
    reference: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bank = write_bgmax(tmp_path / "BGMAX.txt", [(reference, Decimal("450.00"))])
    lines = bank.read_bytes().split(b"\r\n")
    lines[2] = lines[2].replace(b"00000000000004500021", b"0000000000000450002Z")
    bank.write_bytes(b"\r\n".join(lines))
    assert main(["payments", "import", str(bank)]) == 2
    err = capsys.readouterr().err
    assert "BGMAX.txt: line 3:" in err and "nothing was recorded" in err
