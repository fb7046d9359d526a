"""``member-plugins deadletters list | show <sequence> | replay (--all | <sequence>...)``.

Works on the dead-letter queue of the registration queue (``REGISTRATION_QUEUE``, or
``--queue``) in the namespace of the trigger's connection setting ``ServiceBusConnection``
(from the environment or ``--settings local.settings.json``; ``--connection-string``
overrides it). Against the sandbox, use the AMQP connection string ``member-plugins sandbox``
prints. Message bodies, reasons and properties are printed with identity numbers and
e-mail addresses masked. A failure is one ``error:`` line on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plugins.core.logging import configure_logging, mask_personal_data

from .connection import load_settings, read_settings_file
from .errors import EXIT_FAILED, AdminError, UsageError, exit_code, one_line

if TYPE_CHECKING:
    from .deadletters import DeadLetter, DeadLetterQueue

CONNECTION_SETTING = "ServiceBusConnection"
DEFAULT_TIMEOUT_SECONDS = 30.0


def add_deadletter_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add ``deadletters list | show | replay`` to the CLI."""
    parser = commands.add_parser(
        "deadletters", help="list, show and replay the dead letters of the product's queue"
    )
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="list the dead letters, oldest first")
    listing.add_argument("--limit", type=int, default=100, help="at most this many (100)")
    show = actions.add_parser("show", help="one dead letter, with its properties and body")
    show.add_argument("sequence", type=int, help="its sequence number (from list)")
    replay = actions.add_parser(
        "replay", help="send dead letters back to the queue (after the cause is fixed)"
    )
    chosen = replay.add_mutually_exclusive_group(required=True)
    chosen.add_argument("sequences", type=int, nargs="*", default=[], help="sequence numbers")
    chosen.add_argument("--all", action="store_true", help="every dead letter (up to --limit)")
    replay.add_argument("--limit", type=int, default=1000, help="at most this many (1000)")
    for action in (listing, show, replay):
        action.add_argument(
            "--settings", type=Path,
            help="a local.settings.json whose Values fill in settings the environment lacks",
        )
        action.add_argument(
            "--connection-string",
            help=f"the namespace's (default: the {CONNECTION_SETTING} setting)",
        )
        action.add_argument("--queue", help="the queue (default: REGISTRATION_QUEUE)")
        action.add_argument(
            "--timeout", type=float, default=DEFAULT_TIMEOUT_SECONDS,
            help="seconds any one Service Bus call may take",
        )
    parser.set_defaults(run=deadletters_command)


def deadletters_command(args: argparse.Namespace) -> int:
    """Run one dead-letter action; problems become one line and an exit code."""
    from .deadletters import DeadLetterError, DeadLetterQueue

    configure_logging(logging.WARNING)
    try:
        connection, queue = _target(args)
        with DeadLetterQueue(connection, queue, args.timeout) as dead_letters:
            return _ACTIONS[args.action](dead_letters, args)
    except (AdminError, DeadLetterError) as exc:
        print(f"error: {one_line(mask_personal_data(str(exc)))}", file=sys.stderr)
        return exit_code(exc) if isinstance(exc, AdminError) else EXIT_FAILED


def _target(args: argparse.Namespace) -> tuple[str, str]:
    """The connection string and queue the options and settings name."""
    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    settings = load_settings(args.settings)
    values = read_settings_file(args.settings) if args.settings else {}
    connection = (
        args.connection_string
        or os.environ.get(CONNECTION_SETTING)
        or values.get(CONNECTION_SETTING)
    )
    if not connection:
        raise UsageError(
            f"no Service Bus connection string: set {CONNECTION_SETTING} (as the Function App "
            "has it) or pass --connection-string"
        )
    return connection, args.queue or settings.registration.queue


def _list(dead_letters: DeadLetterQueue, args: argparse.Namespace) -> int:
    found = dead_letters.list_all(args.limit)
    print(f"dead letters of {dead_letters.queue}: {len(found)}")
    if found:
        print(f"  {'sequence':>8}  {'enqueued (UTC)':<19}  {'deliveries':>10}  reason")
    for letter in found:
        when = letter.enqueued_time
        enqueued = when.strftime("%Y-%m-%d %H:%M:%S") if when else ""
        deliveries = "" if letter.delivery_count is None else str(letter.delivery_count)
        print(
            f"  {letter.sequence_number:>8}  {enqueued:<19}  {deliveries:>10}  "
            f"{_masked(_reason(letter))}"
        )
    return 0


def _show(dead_letters: DeadLetterQueue, args: argparse.Namespace) -> int:
    letter = dead_letters.show(args.sequence)
    if letter is None:
        raise UsageError(
            f"no dead letter {args.sequence} in {dead_letters.queue}: see "
            "member-plugins deadletters list"
        )
    for name, value in _fields(letter):
        print(f"{name + ':':<22}{_masked(value)}")
    print("application properties:")
    for name, value in sorted(letter.application_properties.items()):
        print(f"  {name} = {_masked(json.dumps(value, default=str, ensure_ascii=False))}")
    print("body:")
    print(_masked(letter.body.decode("utf-8", "replace")))
    return 0


def _replay(dead_letters: DeadLetterQueue, args: argparse.Namespace) -> int:
    result = dead_letters.replay(None if args.all else args.sequences, args.limit)
    numbers = ", ".join(map(str, result.replayed)) or "none"
    print(f"replayed to {dead_letters.queue}: {len(result.replayed)} ({numbers})")
    if result.missing:
        raise UsageError(
            f"not in the dead-letter queue of {dead_letters.queue}: "
            f"{', '.join(map(str, result.missing))} (see member-plugins deadletters list)"
        )
    return 0


_ACTIONS = {"list": _list, "show": _show, "replay": _replay}


def _fields(letter: DeadLetter) -> list[tuple[str, Any]]:
    return [
        ("sequence number", letter.sequence_number),
        ("message id", letter.message_id),
        ("enqueued (UTC)", letter.enqueued_time),
        ("delivery count", letter.delivery_count),
        ("dead-letter reason", letter.reason),
        ("description", letter.description),
        ("subject", letter.subject),
        ("content type", letter.content_type),
        ("correlation id", letter.correlation_id),
    ]


def _reason(letter: DeadLetter) -> str:
    return ": ".join(part for part in (letter.reason, letter.description) if part)


def _masked(value: Any) -> str:
    return "" if value is None else mask_personal_data(str(value))
