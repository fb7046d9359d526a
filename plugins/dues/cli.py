"""``member-plugins payments import FILE`` and ``member-plugins dues run``.

The settings come from the environment or ``--settings local.settings.json`` (as for the
other admin commands). A bank file that is not what it should be is reported with its line
number and exit code 2; nothing of it is written.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

from plugins.admin.connection import load_settings
from plugins.core.logging import configure_logging
from plugins.dataverse.errors import DataverseError

from .bankfile import BankFileError
from .runtime import Dues

EXIT_BAD_FILE = 2
EXIT_FAILED = 1


def add_dues_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``payments`` and ``dues`` to the CLI."""
    payments = commands.add_parser("payments", help="record payments from the bank")
    actions = payments.add_subparsers(dest="action", required=True)
    importing = actions.add_parser("import", help="import a BgMax file of incoming payments")
    importing.add_argument("file", type=Path)
    importing.add_argument("--settings", type=Path, help="a local.settings.json to read")
    importing.set_defaults(run=_import)
    dues = commands.add_parser("dues", help="memberships, invoices and reminders")
    dues_actions = dues.add_subparsers(dest="action", required=True)
    run = dues_actions.add_parser("run", help="run the dues run now")
    run.add_argument("--settings", type=Path, help="a local.settings.json to read")
    run.set_defaults(run=_run)


def _import(args: argparse.Namespace) -> int:
    configure_logging(logging.WARNING)
    try:
        with Dues(load_settings(args.settings)) as dues:
            report = dues.import_file(args.file)
    except BankFileError as exc:
        print(f"error: {args.file.name}: {exc}; nothing was recorded", file=sys.stderr)
        return EXIT_BAD_FILE
    except (DataverseError, OSError) as exc:
        print(f"error: {type(exc).__name__}: {exc}; run the import again to resume",
              file=sys.stderr)
        return EXIT_FAILED
    if report.already_imported:
        print(f"{args.file.name}: imported before; nothing recorded")
        return 0
    print(
        f"{args.file.name}: {report.payments} payments, {report.total:.2f} in total; "
        f"{report.recorded} recorded, {report.matched} matched to invoices, "
        f"{report.for_review} on the review list, {report.duplicates} recorded before, "
        f"{report.memberships_extended} memberships extended"
    )
    return 0


def _run(args: argparse.Namespace) -> int:
    configure_logging(logging.WARNING)
    try:
        with Dues(load_settings(args.settings)) as dues:
            report = dues.run(datetime.now(UTC))
    except DataverseError as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if report is None:
        print("the dues run is not enabled (DUES__ENABLED)")
        return 0
    print(
        f"{report.memberships_created} memberships created, {report.invoices_created} invoices, "
        f"{report.emailed} e-mailed, {report.to_print} to print, "
        f"{report.reminders_sent} reminders sent"
    )
    return 0
