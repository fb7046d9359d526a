"""Instance annotations: which ones a client asked for, and the formatted values.

``Prefer: odata.include-annotations="*"`` (or a comma list of terms, ``Namespace.*``
wildcards and ``-term`` exclusions, as in OData) makes Dataverse add
``<property>@OData.Community.Display.V1.FormattedValue`` and, on lookups,
``...@Microsoft.Dynamics.CRM.lookuplogicalname`` / ``...associatednavigationproperty``.
Formatted values use the sandbox users' settings: English (United States), UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from plugins.core.schema import Choice, Column

FORMATTED_VALUE = "OData.Community.Display.V1.FormattedValue"
LOOKUP_LOGICAL_NAME = "Microsoft.Dynamics.CRM.lookuplogicalname"
ASSOCIATED_NAVIGATION = "Microsoft.Dynamics.CRM.associatednavigationproperty"
TOTAL_COUNT = "Microsoft.Dynamics.CRM.totalrecordcount"
COUNT_LIMIT_EXCEEDED = "Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"


@dataclass(frozen=True)
class Annotations:
    """The annotation terms a request wants."""

    preference: str
    formatted: bool
    lookup_logical_name: bool
    associated_navigation: bool
    total_count: bool
    count_limit_exceeded: bool

    @classmethod
    def parse(cls, preference: str | None) -> Annotations | None:
        """None when the request asked for no annotations (the common, fast case)."""
        if not preference or not preference.strip():
            return None
        patterns = [p.strip() for p in preference.split(",") if p.strip()]

        def wants(term: str) -> bool:
            included = any(_matches(p, term) for p in patterns if not p.startswith("-"))
            excluded = any(_matches(p[1:], term) for p in patterns if p.startswith("-"))
            return included and not excluded

        return cls(
            preference=preference,
            formatted=wants(FORMATTED_VALUE),
            lookup_logical_name=wants(LOOKUP_LOGICAL_NAME),
            associated_navigation=wants(ASSOCIATED_NAVIGATION),
            total_count=wants(TOTAL_COUNT),
            count_limit_exceeded=wants(COUNT_LIMIT_EXCEEDED),
        )

    @property
    def applied(self) -> str:
        """The ``Preference-Applied`` item answering this preference."""
        return f'odata.include-annotations="{self.preference}"'


def _matches(pattern: str, term: str) -> bool:
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return term.startswith(pattern[:-1])
    return pattern == term


def formatted_value(column: Column, value: Any, choice: Choice | None) -> str | None:
    """The display text of a non-null value, or None for kinds that have none."""
    kind = column.type
    if kind == "boolean":
        return "Yes" if value else "No"
    if kind in ("choice", "state", "status") and choice is not None:
        return choice.options.get(value, str(value))
    if kind == "multichoice" and choice is not None:
        labels = []
        for part in str(value).split(","):
            if part.strip():
                option = int(part)
                labels.append(choice.options.get(option, str(option)))
        return "; ".join(labels)
    if kind in ("integer", "bigint"):
        return f"{value:,}"
    if kind in ("decimal", "float"):
        return f"{value:,.2f}"
    if kind == "money":
        return f"${value:,.2f}"
    if kind in ("datetime", "date"):
        return _formatted_moment(value, with_time=kind == "datetime")
    return None


def _formatted_moment(value: str, with_time: bool) -> str | None:
    """``4/7/2023 9:59 PM`` (datetime) or ``4/7/2023`` (date only)."""
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    day = f"{moment.month}/{moment.day}/{moment.year}"
    if not with_time:
        return day
    hour = moment.hour % 12 or 12
    suffix = "AM" if moment.hour < 12 else "PM"
    return f"{day} {hour}:{moment.minute:02d} {suffix}"
