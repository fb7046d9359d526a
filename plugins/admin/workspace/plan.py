"""What ``provision`` must do to the workspace: compare what should exist with what the
environment has (pure).

A component that is missing is created; one whose compared columns differ is updated; one
that matches is left alone. Then the links between them: the app's parts (site map, forms,
views), each role's privileges, the office role on the review team and on the app, and
finally publishing the app when anything about it changed. An environment that already has
everything gives an empty plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .components import Component, Kind, Workspace


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    ADD_TO_APP = "add to app"
    ADD_PRIVILEGES = "add privileges"
    ASSIGN_ROLE = "assign role"
    PUBLISH = "publish"


@dataclass(frozen=True)
class Found:
    """A component the environment has: its id and the compared columns' values."""

    id: str
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EnvironmentState:
    """What the environment has of the workspace.

    ``found`` by component (kind, name); ``app_parts`` the ids already in the app;
    ``role_privileges`` the privilege names each role (by id) holds; ``privilege_ids`` the
    ids of the privileges that exist; ``team_roles`` / ``app_roles`` the role ids associated.
    """

    found: Mapping[tuple[Kind, str], Found] = field(default_factory=dict)
    app_parts: frozenset[str] = frozenset()
    role_privileges: Mapping[str, frozenset[str]] = field(default_factory=dict)
    privilege_ids: Mapping[str, str] = field(default_factory=dict)
    team_roles: frozenset[str] = frozenset()
    app_roles: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Step:
    """One write: the action, on which component, with what."""

    action: Action
    component: Component
    detail: str = ""
    changes: Mapping[str, Any] = field(default_factory=dict, repr=False)
    items: tuple[Any, ...] = ()


@dataclass(frozen=True)
class WorkspacePlan:
    steps: tuple[Step, ...]
    present: int
    missing_privileges: tuple[str, ...] = ()

    @property
    def is_noop(self) -> bool:
        return not self.steps


def plan_workspace(wanted: Workspace, state: EnvironmentState) -> WorkspacePlan:
    """The steps that make the environment hold ``wanted``, in the order to apply them."""
    steps: list[Step] = []
    present = 0
    for component in wanted.components:
        found = state.found.get((component.kind, component.name))
        if found is None:
            steps.append(Step(Action.CREATE, component))
            continue
        changes = {
            column: component.body[column]
            for column in component.compared
            if found.values.get(column) != component.body[column]
        }
        if changes:
            steps.append(Step(Action.UPDATE, component, ", ".join(sorted(changes)), changes))
        else:
            present += 1
    app_changed = any(s.component.kind in (Kind.APP, Kind.SITEMAP, Kind.FORM, Kind.VIEW)
                      for s in steps)
    parts = tuple(p for p in wanted.app_parts if p.row_id not in state.app_parts)
    if parts:
        steps.append(Step(Action.ADD_TO_APP, wanted.app, f"{len(parts)} components",
                          items=parts))
    missing: list[str] = []
    for role, spec in wanted.roles:
        held = state.role_privileges.get(role.row_id or "", frozenset())
        needed = tuple(p for p in spec.privileges() if p not in held)
        missing += [p for p in needed if p not in state.privilege_ids]
        if needed:
            steps.append(Step(Action.ADD_PRIVILEGES, role, f"{len(needed)} privileges",
                              items=needed))
    office = wanted.office_role.row_id
    if office not in state.team_roles:
        steps.append(Step(Action.ASSIGN_ROLE, wanted.team, wanted.office_role.name))
    if office not in state.app_roles:
        steps.append(Step(Action.ASSIGN_ROLE, wanted.app, wanted.office_role.name))
    if app_changed or parts:
        steps.append(Step(Action.PUBLISH, wanted.app))
    return WorkspacePlan(tuple(steps), present, tuple(sorted(set(missing))))


def render(plan: WorkspacePlan) -> list[str]:
    """One line per step (what ``provision`` and ``--dry-run`` print)."""
    lines = []
    for step in plan.steps:
        detail = f" ({step.detail})" if step.detail else ""
        lines.append(f"  {step.action.value:<14}  {step.component.kind.value:<9}  "
                     f"{step.component.name}{detail}")
    return lines
