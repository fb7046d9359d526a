"""``member-plugins erase``: erase people on request (GDPR art. 17) for a list.

Each argument (or each line of ``--file``) is a contact id (a GUID) or an identity number of
``REGISTRATION__NATIONAL_ID_COUNTRY``. For each, an erasure request row is created, as the
office would, and carried out at once (:mod:`plugins.sync.erasure_requests`), so the register
keeps the same record of it. ``--dry-run`` prints what would be erased and writes nothing.
Output lines carry the contact id and counts, never an identity number unmasked. Needs
``SYNC__TOMBSTONE_KEY``; ``SYNC__ERASURE__MODE`` says delete or anonymise.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

from plugins.core.logging import configure_logging
from plugins.core.settings import DataverseSettings, Settings
from plugins.dataverse.errors import DataverseError
from plugins.identity.masking import mask_national_id
from plugins.sync.erasure_requests import ErasureRequests, RequestOutcome, parse_target
from plugins.sync.event_services import ConfigurationError
from plugins.sync.jobs import SyncJobs

from .connection import connect, load_settings
from .errors import EXIT_FAILED, AdminError, UsageError, exit_code, explain


def add_erase_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``erase`` to the CLI."""
    parser = commands.add_parser(
        "erase", help="erase people on request (GDPR): contact ids or identity numbers"
    )
    parser.add_argument("people", nargs="*", help="contact ids (GUIDs) or identity numbers")
    parser.add_argument("--file", type=Path, help="one contact id or identity number a line")
    parser.add_argument("--dry-run", action="store_true", help="print what would go; write nothing")
    parser.add_argument(
        "--settings", type=Path,
        help="a local.settings.json whose Values fill in settings the environment lacks",
    )
    parser.set_defaults(run=erase_command)


def erase_command(args: argparse.Namespace) -> int:
    """Erase (or with ``--dry-run`` describe erasing) every person named."""
    configure_logging(logging.WARNING)
    settings: Settings | None = None
    try:
        people = _people(args.people, args.file)
        settings = load_settings(args.settings)
        with connect(settings.dataverse) as client, SyncJobs(settings, client) as jobs:
            try:
                requests = jobs.erasure_requests()
            except ConfigurationError as exc:
                raise UsageError(str(exc)) from exc
            return _erase(requests, settings, people, args.dry_run)
    except (AdminError, DataverseError) as exc:
        dataverse = settings.dataverse if settings else DataverseSettings()
        print(f"error: {explain(exc, dataverse)}", file=sys.stderr)
        return exit_code(exc) if isinstance(exc, AdminError) else EXIT_FAILED


def _people(arguments: list[str], file: Path | None) -> list[str]:
    people = [item.strip() for item in arguments if item.strip()]
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read --file {file}: {exc.strerror}") from exc
        people += [line.strip() for line in text.splitlines() if line.strip()]
    if not people:
        raise UsageError("name at least one contact id or identity number (or --file)")
    return people


def _erase(
    requests: ErasureRequests, settings: Settings, people: list[str], dry_run: bool
) -> int:
    now = datetime.now(UTC)
    country = settings.registration.national_id_country
    failed = 0
    for item in people:
        target = parse_target(item, country)
        shown = target.contact_id or mask_national_id(item)
        if target.invalid:
            failed += 1
            print(f"{'failed':<10} {shown}: neither a contact id nor a valid identity number")
            continue
        if dry_run:
            outcome: RequestOutcome | None = requests.dry_run(target, now)
        else:
            request_id = requests.create(target, f"CLI {now:%Y-%m-%d %H:%M} UTC")
            outcome = requests.process(request_id, now)
        if outcome is None:
            continue
        failed += outcome.status != "done"
        print(f"{outcome.status:<10} {shown}: {outcome.summary}")
    verb = "dry run, nothing was written" if dry_run else "erasure"
    print(f"{verb}: {len(people) - failed} of {len(people)} done, {failed} not done")
    return 0 if not failed else EXIT_FAILED
