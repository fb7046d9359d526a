"""``member-plugins register | unregister | status``: the admin's step registration.

Each command reads the product's own settings (``DATAVERSE__URL``, ``DATAVERSE__TENANT_ID``,
... from the environment, or a ``local.settings.json`` given with ``--settings``), checks
that they lead to a Dataverse environment, and then plans, writes or reports. A problem is
reported as one ``error:`` line on stderr saying what is wrong and how to fix it, with exit
code 1 (2 for bad options), and nothing is written.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from plugins.core.logging import configure_logging
from plugins.core.settings import DataverseSettings, Settings
from plugins.dataverse.client import DataverseClient
from plugins.dataverse.errors import DataverseError

from .catalog import StepSpec, product_steps
from .connection import connect, load_settings
from .endpoint import Delivery, DeliveryError, QueueDelivery, WebhookDelivery
from .errors import AdminError, UsageError, exit_code, explain
from .plan import Action, Plan, PlanItem
from .status import RegistrationStatus, StepStatus, status
from .steps import (
    RegistrationError,
    RegistrationOptions,
    apply,
    plan_registration,
    plan_unregistration,
)
from .workspace.access import check_application_user, render_role_check

FUNCTION_KEY_VARIABLE = "MEMBER_PLUGINS_FUNCTION_KEY"
SAS_KEY_VARIABLE = "MEMBER_PLUGINS_SAS_KEY"
EXPECTED = (AdminError, DeliveryError, RegistrationError, DataverseError)


def add_registration_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add ``register``, ``unregister`` and ``status`` to the CLI."""
    register = commands.add_parser(
        "register", help="register the endpoint, steps and images in Dataverse"
    )
    _settings_option(register)
    register.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    webhook = register.add_argument_group("webhook delivery")
    webhook.add_argument(
        "--webhook-url", help="https://<app>.azurewebsites.net/api/registration/events"
    )
    webhook.add_argument(
        "--function-key", default=os.environ.get(FUNCTION_KEY_VARIABLE),
        help=f"the function's key (default: ${FUNCTION_KEY_VARIABLE})",
    )
    webhook.add_argument(
        "--webhook-auth", choices=("webhookkey", "httpheader"), default="webhookkey",
        help="send the key as ?code= (webhookkey) or as the x-functions-key header",
    )
    queue = register.add_argument_group("Service Bus queue delivery")
    queue.add_argument("--servicebus-namespace", help="sb://<namespace>.servicebus.windows.net/")
    queue.add_argument("--queue", help="the queue the Function App's trigger reads")
    queue.add_argument("--sas-key-name", help="a SAS policy with Send rights")
    queue.add_argument(
        "--sas-key", default=os.environ.get(SAS_KEY_VARIABLE),
        help=f"that policy's key (default: ${SAS_KEY_VARIABLE})",
    )
    register.set_defaults(run=register_command)

    unregister = commands.add_parser(
        "unregister", help="remove exactly what register created"
    )
    _settings_option(unregister)
    unregister.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    unregister.set_defaults(run=unregister_command)

    report = commands.add_parser("status", help="list what is registered and whether it is enabled")
    _settings_option(report)
    report.set_defaults(run=status_command)


def register_command(args: argparse.Namespace) -> int:
    """Plan the registration and apply it (or only print it with ``--dry-run``)."""

    def work(settings: Settings, client: DataverseClient) -> int:
        options = RegistrationOptions(
            delivery(args), schema_map=settings.schema_map, steps=catalog_steps(settings)
        )
        plan = plan_registration(client, options)
        return _finish(client, plan, args.dry_run, settings, "registered")

    return _run(args, work, needs_delivery=True)


def unregister_command(args: argparse.Namespace) -> int:
    """Remove the product's endpoint, steps and images (or print the plan)."""

    def work(settings: Settings, client: DataverseClient) -> int:
        return _finish(client, plan_unregistration(client), args.dry_run, settings, "unregistered")

    return _run(args, work)


def status_command(args: argparse.Namespace) -> int:
    """Print what is registered, whether each step is enabled, and what is missing."""

    def work(settings: Settings, client: DataverseClient) -> int:
        report = status(client, settings.schema_map, catalog_steps(settings))
        print(f"registration in {settings.dataverse.url}")
        for line in render_status(report):
            print(line)
        print(render_role_check(check_application_user(client)))
        return 0

    return _run(args, work)


def catalog_steps(settings: Settings) -> tuple[StepSpec, ...]:
    """The steps these settings need: the catalog's, and the follow-ups' and the erasure
    requests' when enabled."""
    sync = settings.sync
    return product_steps(settings.schema_map, sync.follow_ups, sync.erasure.enabled)


def delivery(args: argparse.Namespace) -> Delivery:
    """The delivery the options describe; UsageError unless exactly one is given."""
    if bool(args.webhook_url) == bool(args.servicebus_namespace):
        raise UsageError(
            "register needs either --webhook-url (with --function-key) or "
            "--servicebus-namespace (with --queue, --sas-key-name and --sas-key)"
        )
    if args.webhook_url:
        return WebhookDelivery(args.webhook_url, args.function_key or "", args.webhook_auth)
    return QueueDelivery(
        args.servicebus_namespace, args.queue or "", args.sas_key_name or "", args.sas_key or ""
    )


def render_plan(plan: Plan) -> list[str]:
    """One line per item: action, kind, name, and what changes or why."""
    return [_plan_line(item) for item in plan.items]


def render_status(report: RegistrationStatus) -> list[str]:
    """One line per endpoint and step, then a verdict."""
    lines = [f"  endpoint  {e.name}: {e.summary}" for e in report.endpoints]
    if not report.endpoints:
        lines.append("  endpoint  none registered")
    lines += [_status_line(step) for step in report.steps]
    catalog = [step for step in report.steps if step.in_catalog]
    ready = sum(1 for step in catalog if step.registered and step.enabled)
    verdict = "complete" if report.complete else "incomplete"
    lines.append(f"{verdict}: {ready} of {len(catalog)} steps registered and enabled")
    missing = sorted({step.missing_table for step in catalog if step.missing_table})
    if missing:
        lines.append(
            f"not provisioned: no table {', '.join(missing)}: run member-plugins provision"
        )
    return lines


def _plan_line(item: PlanItem) -> str:
    line = f"  {item.action.value:<9}  {item.kind.value:<8}  {item.label}"
    if item.summary:
        line += f" ({item.summary})"
    if item.action is Action.UPDATE:
        line += f" [changes: {', '.join(item.changes)}]"
    if item.note:
        line += f"; {item.note}"
    return line


def _status_line(step: StepStatus) -> str:
    if not step.registered and step.missing_table:
        return (
            f"  missing   {step.name} ({step.summary}): the environment has no table "
            f"{step.missing_table}: run member-plugins provision, then register"
        )
    if not step.registered:
        return f"  missing   {step.name} ({step.summary}): run member-plugins register"
    state = "enabled " if step.enabled else "disabled"
    line = f"  {state}  {step.name} ({step.summary}) -> {step.endpoint}"
    if step.images:
        line += f", images {', '.join(step.images)}"
    if not step.in_catalog:
        line += "; no longer needed: register removes it"
    return line


def _finish(
    client: DataverseClient, plan: Plan, dry_run: bool, settings: Settings, done: str
) -> int:
    """Apply the plan unless ``dry_run``, then print it: a failed run prints only its error."""
    if not dry_run:
        apply(client, plan)
    print(f"plan for {settings.dataverse.url}:")
    for line in render_plan(plan):
        print(line)
    counts = plan.counts()
    if not plan.items:
        print("nothing to change: nothing is registered by member-plugins")
    elif plan.is_noop:
        print(f"nothing to change: {counts[Action.UNCHANGED]} unchanged")
    elif dry_run:
        print(f"dry run: {_tally(counts, _PLANNED)}; nothing was written")
    else:
        print(f"{done}: {_tally(counts, _DONE)} (one change set)")
    return 0


_PLANNED = {
    Action.CREATE: "to create", Action.UPDATE: "to update", Action.DELETE: "to delete",
    Action.UNCHANGED: "unchanged",
}
_DONE = {
    Action.CREATE: "created", Action.UPDATE: "updated", Action.DELETE: "deleted",
    Action.UNCHANGED: "unchanged",
}


def _tally(counts: dict[Action, int], words: dict[Action, str]) -> str:
    """``2 to create, 1 unchanged``: the actions that occur, in a fixed order."""
    return ", ".join(f"{counts[action]} {words[action]}" for action in Action if counts[action])


def _settings_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--settings", type=Path,
        help="a local.settings.json whose Values fill in settings the environment lacks",
    )


def _run(
    args: argparse.Namespace,
    work: Callable[[Settings, DataverseClient], int],
    *,
    needs_delivery: bool = False,
) -> int:
    """Connect and run ``work``; an expected failure becomes one line and an exit code."""
    configure_logging(logging.WARNING)
    settings: Settings | None = None
    try:
        settings = load_settings(args.settings)
        if needs_delivery:
            delivery(args).endpoint()
        with connect(settings.dataverse) as client:
            return work(settings, client)
    except EXPECTED as exc:
        dataverse = settings.dataverse if settings else DataverseSettings()
        print(f"error: {explain(exc, dataverse)}", file=sys.stderr)
        return exit_code(exc)
