"""``member-plugins provision``: create the product's tables, columns, choices, lookups and
keys in a Dataverse environment, from the schema the sandbox serves, and the alumni office's
workspace (publisher, solution, review team, forms, views, site map, app, security roles),
every solution-aware component inside the product's solution (``--solution``, default
``MemberPlugins``).

Uses the product's own settings (``DATAVERSE__*`` and the schema map ``SCHEMA_MAP__*``, from
the environment or ``--settings local.settings.json``). Prints the plan; ``--dry-run`` stops
there. A conflict (an existing column of another type, say) stops the run before anything is
written. A failure is one ``error:`` line on stderr with exit code 1.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from plugins.core.logging import configure_logging
from plugins.core.schema import product_schema
from plugins.core.settings import DataverseSettings, Settings
from plugins.dataverse.client import DataverseClient
from plugins.dataverse.errors import AuthorizationError, DataverseError

from . import provision
from .connection import connect, load_settings
from .errors import EXIT_FAILED, NOT_A_MEMBER_CODE, AdminError, exit_code, explain, one_line
from .provision_plan import MetadataStep, ProvisionPlan, mapped_schema
from .workspace import provision as workspace_io
from .workspace.components import DEFAULT_SOLUTION, Kind, Workspace, workspace
from .workspace.plan import EnvironmentState, WorkspacePlan, plan_workspace, render

EXPECTED = (AdminError, DataverseError, provision.ProvisioningError)


class ConflictError(AdminError):
    """The environment has definitions in the way; nothing was written."""


def add_provision_command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add ``provision`` to the CLI."""
    parser = commands.add_parser(
        "provision",
        help="create the product's tables, columns, choices, lookups and keys in Dataverse",
    )
    parser.add_argument(
        "--settings", type=Path,
        help="a local.settings.json whose Values fill in settings the environment lacks",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    parser.add_argument(
        "--solution", default=DEFAULT_SOLUTION,
        help="unique name of the unmanaged solution that holds every component "
        f"(created with its publisher when missing; default {DEFAULT_SOLUTION})",
    )
    parser.set_defaults(run=provision_command)


def provision_command(args: argparse.Namespace) -> int:
    """Plan, print, and (unless ``--dry-run``) create what is missing."""
    configure_logging(logging.WARNING)
    settings: Settings | None = None
    try:
        settings = load_settings(args.settings)
        with connect(settings.dataverse) as client:
            return _provision(client, settings, args.dry_run, args.solution)
    except EXPECTED as exc:
        dataverse = settings.dataverse if settings else DataverseSettings()
        print(f"error: {describe_failure(exc, dataverse)}", file=sys.stderr)
        return exit_code(exc) if isinstance(exc, AdminError) else EXIT_FAILED


def _provision(
    client: DataverseClient, settings: Settings, dry_run: bool, solution: str
) -> int:
    plan = provision.plan(client, settings.schema_map)
    print(f"provisioning plan for {settings.dataverse.url}:")
    for line in render_plan(plan):
        print(line)
    if plan.conflicts:
        raise ConflictError(
            f"{len(plan.conflicts)} definition(s) in the way (listed above); fix them or the "
            "schema map and run again; nothing was written"
        )
    wanted = _workspace(client, settings, solution)
    state = workspace_io.read_state(client, wanted)
    office = plan_workspace(wanted, state)
    print(f"workspace plan (solution {solution}):")
    for line in render(office):
        print(line)
    if not plan.steps and office.is_noop:
        print(f"nothing to change: all {plan.present} definitions and {office.present} "
              "workspace components are in place")
        return 0
    if dry_run:
        print(f"dry run: {len(plan.steps)} definitions and {len(office.steps)} workspace "
              "steps to apply; nothing was written")
        return 0
    print(f"note: {provision.NOT_TRANSACTIONAL}")
    first = _solution_first(client, wanted, office, state)
    provision.apply(client, plan, solution=solution, on_created=_print_created)
    # The tables exist now: their type codes and privileges can be read.
    wanted = _workspace(client, settings, solution)
    state = workspace_io.read_state(client, wanted)
    office = plan_workspace(wanted, state)
    if office.missing_privileges:
        raise AdminError(
            "privileges missing in the environment: " + ", ".join(office.missing_privileges)
        )
    workspace_io.apply(client, wanted, office, state)
    for line in render(office):
        print(f"  done{line[1:]}")
    print(f"provisioned: {len(plan.steps)} definitions created, {plan.present} were in place; "
          f"{first + len(office.steps)} workspace steps applied, {office.present - first} were "
          "in place")
    registration = settings.registration
    if not registration.review_team and not registration.review_team_id:
        print(f"note: set REGISTRATION__REVIEW_TEAM={wanted.team.name} so that review tasks "
              "are owned by the team (now they are owned by the application user)")
    return 0


def _workspace(client: DataverseClient, settings: Settings, solution: str) -> Workspace:
    schema_map = settings.schema_map
    return workspace(
        schema_map,
        mapped_schema(product_schema(), schema_map),
        settings.registration.office_language,
        solution=solution,
        object_type_code=workspace_io.object_type_code(client, schema_map.registration.table),
    )


def _solution_first(
    client: DataverseClient, wanted: Workspace, office: WorkspacePlan, state: EnvironmentState
) -> int:
    """Create the publisher and the solution before anything is created inside them; how
    many steps that took."""
    first = tuple(s for s in office.steps
                  if s.component.kind in (Kind.PUBLISHER, Kind.SOLUTION))
    if first:
        workspace_io.apply(client, wanted, WorkspacePlan(first, 0), state)
        for line in render(WorkspacePlan(first, 0)):
            print(f"  done{line[1:]}")
    return len(first)


def render_plan(plan: ProvisionPlan) -> list[str]:
    """One line per step to create, then the conflicts and notes."""
    lines = [
        f"  create  {step.kind.value:<12}  {step.name} ({step.summary})" for step in plan.steps
    ]
    lines += [f"  conflict  {conflict}" for conflict in plan.conflicts]
    lines += [f"  note  {note}" for note in plan.notes]
    return lines


def _print_created(step: MetadataStep) -> None:
    print(f"  created {step.kind.value} {step.name}")
    sys.stdout.flush()


def describe_failure(exc: BaseException, settings: DataverseSettings) -> str:
    """The one line to print: what went wrong and how to fix it (and how far a run got)."""
    if isinstance(exc, provision.ProvisioningError):
        return one_line(
            f"creating {exc.step.kind.value} {exc.step.name} failed after {exc.created} of "
            f"{exc.planned} steps: {describe_failure(exc.cause, settings)}; "
            f"{provision.NOT_TRANSACTIONAL}"
        )
    if isinstance(exc, AuthorizationError) and exc.code.lower() != NOT_A_MEMBER_CODE:
        code = f" {exc.code}" if exc.code else ""
        return one_line(
            f"the application user may not customize this environment (HTTP {exc.status}{code}: "
            f"{exc.message}): give it the System Customizer (or System Administrator) role, "
            "then run again"
        )
    return explain(exc, settings)
