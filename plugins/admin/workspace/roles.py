"""The two security roles and their privileges (pure).

- *Member plugins integration*, for the application user the functions run as: exactly the
  tables and rights the functions use (read and write the registrations, people, tasks and
  e-mails they handle, create the rows they own, delete a person on an erasure request).
- *Alumni office*, for the people who work the review queue: read registrations and people,
  write the decision, work the tasks; nothing they do not need (no delete, no e-mail).

Privileges are named ``prv<Right><Table>`` as Dataverse names them: the table's schema name
for the product's own tables, and Dataverse's fixed names for its own (``Contact``; tasks and
e-mails share ``Activity``; ``User`` for ``systemuser``). Depth ``Global`` (organisation):
the office works every registration, not only its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from plugins.admin.metadata import schema_name
from plugins.core.schema_map import SchemaMap

STANDARD_PRIVILEGE_NAMES: Mapping[str, str] = {
    "contact": "Contact",
    "task": "Activity",
    "email": "Activity",
    "team": "Team",
    "systemuser": "User",
    "template": "Template",
}
RIGHTS = ("Create", "Read", "Write", "Delete", "Append", "AppendTo", "Assign", "Share")


@dataclass(frozen=True)
class Grant:
    """Rights on one table, for the privileges table in the docs and for the role."""

    table: str
    rights: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class RoleSpec:
    key: str
    grants: tuple[Grant, ...]

    def privileges(self) -> tuple[str, ...]:
        """The privilege names, sorted, each once (tasks and e-mails share ``Activity``)."""
        return tuple(sorted({
            privilege_name(right, grant.table) for grant in self.grants for right in grant.rights
        }))


def privilege_name(right: str, table: str) -> str:
    """``prvReadmp_Registration``, ``prvWriteContact``, ``prvCreateActivity``..."""
    if right not in RIGHTS:
        raise ValueError(f"unknown right {right}")
    return f"prv{right}{STANDARD_PRIVILEGE_NAMES.get(table) or schema_name(table)}"


def product_roles(schema: SchemaMap) -> tuple[RoleSpec, ...]:
    """The integration role and the office's role, under the schema map's table names."""
    m = schema
    integration = RoleSpec("role.integration", (
        Grant(m.registration.table, ("Create", "Read", "Write", "Delete", "Append", "AppendTo"),
              "decide registrations, create them from the self-service pages, erase them"),
        Grant(m.contact.table, ("Create", "Read", "Write", "Delete", "Append", "AppendTo"),
              "match, create, enrich and erase people"),
        Grant(m.task.table, ("Create", "Read", "Write", "Append", "AppendTo", "Assign"),
              "create review tasks owned by the review team, close them"),
        Grant(m.email.table, ("Create", "Read", "Write", "Append", "AppendTo"),
              "send self-service links and lifecycle messages"),
        Grant(m.template.table, ("Read",), "read e-mail templates"),
        Grant(m.team.table, ("Read",), "find the review team by name"),
        Grant("systemuser", ("Read",), "the sender of e-mails"),
        Grant(m.membership.table, ("Create", "Read", "Write", "Append", "AppendTo"),
              "keep memberships"),
        Grant(m.lifecycle_event.table, ("Create", "Read", "Write", "Append"),
              "remember each lifecycle message once"),
        Grant(m.tombstone.table, ("Create", "Read"), "remember erased people"),
        Grant(m.checkpoint.table, ("Create", "Read", "Write"), "where scheduled jobs got to"),
        Grant(m.selfservice_link.table, ("Create", "Read", "Write", "Append"),
              "one-time self-service links"),
    ))
    office = RoleSpec("role.office", (
        Grant(m.registration.table, ("Read", "Write", "Append", "AppendTo"),
              "see registrations, set the decision"),
        Grant(m.contact.table, ("Read", "Write", "Append", "AppendTo"),
              "see and correct the person"),
        Grant(m.task.table, ("Create", "Read", "Write", "Append", "AppendTo"),
              "work the review tasks"),
        Grant(m.membership.table, ("Read",), "see memberships"),
        Grant(m.team.table, ("Read",), "see the review team"),
        Grant("systemuser", ("Read",), "see who did what"),
    ))
    return integration, office
