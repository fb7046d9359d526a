"""``member-plugins data-check-report``: confirmation rates of the data-check mailings per
cohort (mailing wave and person category), for the office. Reads only."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from plugins.core.logging import configure_logging
from plugins.core.settings import DataverseSettings, Settings
from plugins.dataverse.errors import DataverseError
from plugins.sync.data_check_report import DataCheckReport

from .connection import connect, load_settings
from .errors import EXIT_FAILED, AdminError, exit_code, explain


def add_data_check_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add ``data-check-report`` to the CLI."""
    parser = commands.add_parser(
        "data-check-report", help="confirmation rates of the data-check mailings per cohort"
    )
    parser.add_argument(
        "--settings", type=Path,
        help="a local.settings.json whose Values fill in settings the environment lacks",
    )
    parser.set_defaults(run=data_check_report_command)


def data_check_report_command(args: argparse.Namespace) -> int:
    """Print one line per cohort: wave, category, sent, confirmed, rate."""
    configure_logging(logging.WARNING)
    settings: Settings | None = None
    try:
        settings = load_settings(args.settings)
        with connect(settings.dataverse) as client:
            rates = DataCheckReport(client, settings.schema_map).rates()
    except (AdminError, DataverseError) as exc:
        dataverse = settings.dataverse if settings else DataverseSettings()
        print(f"error: {explain(exc, dataverse)}", file=sys.stderr)
        return exit_code(exc) if isinstance(exc, AdminError) else EXIT_FAILED
    print(f"{'wave':<10} {'category':<18} {'sent':>7} {'confirmed':>9} {'rate':>6}")
    for cohort in rates:
        print(f"{cohort.wave:<10} {cohort.category:<18} {cohort.sent:>7} "
              f"{cohort.confirmed:>9} {cohort.rate:>6.1%}")
    if not rates:
        print("no data-check mailing has been sent yet")
    return 0
