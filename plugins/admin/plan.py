"""A registration plan: per endpoint, step and image, what would be created, updated,
deleted or left unchanged, and the values to write.

Pure: no I/O. Secret values are kept out of ``repr`` so a plan can be printed or logged.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Action(StrEnum):
    """What happens to one row."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    UNCHANGED = "unchanged"


class Kind(StrEnum):
    """Which kind of row an item is."""

    ENDPOINT = "endpoint"
    STEP = "step"
    IMAGE = "image"


@dataclass(frozen=True)
class Link:
    """A lookup to set (``<navigation>@odata.bind``): to an existing row (``row_id``), or to
    the endpoint or step of this plan named ``item`` (created or not, it is resolved when the
    plan is applied)."""

    navigation: str
    entity_set: str
    row_id: str | None = None
    item: str | None = None


@dataclass(frozen=True)
class PlanItem:
    """One row and what the plan does to it.

    ``changes`` names the columns (and lookups) that differ; ``values`` and ``links`` are what
    a create or update writes; ``parent`` is an image's step name; ``note`` explains a choice
    (a row kept, a step disabled).
    """

    kind: Kind
    name: str
    action: Action
    summary: str = ""
    row_id: str | None = None
    changes: tuple[str, ...] = ()
    values: Mapping[str, Any] = field(default_factory=dict, repr=False)
    links: tuple[Link, ...] = ()
    parent: str | None = None
    note: str = ""

    @property
    def label(self) -> str:
        """``PreImage of member-plugins: ...`` for an image, the name otherwise."""
        return f"{self.name} on {self.parent}" if self.parent else self.name


@dataclass(frozen=True)
class Plan:
    """Every item of one register or unregister run, in the order they are listed."""

    items: tuple[PlanItem, ...]

    @property
    def writes(self) -> tuple[PlanItem, ...]:
        """The items that change something."""
        return tuple(item for item in self.items if item.action is not Action.UNCHANGED)

    @property
    def is_noop(self) -> bool:
        """True when applying the plan would write nothing."""
        return not self.writes

    def counts(self) -> dict[Action, int]:
        """How many items per action (every action present, zero when none)."""
        found = Counter(item.action for item in self.items)
        return {action: found.get(action, 0) for action in Action}
