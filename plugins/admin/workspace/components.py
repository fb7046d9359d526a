"""Every row of the office's workspace the product ships, as it should be (pure).

Built from the schema map, the product schema (the column types decide the form controls)
and the office's language. Forms, views, the site map, the app and the roles carry fixed ids
(derived from their keys), so every environment has the same ids, a solution moved between
environments updates them in place, and ``provision`` finds them by id. The publisher, the
solution and the team are found by their unique name / name.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from plugins.core.schema import Schema, Table
from plugins.core.schema_map import SchemaMap
from plugins.registration.review_text import OfficeLanguage

from .formxml import Field, Section, Tab, form_id, form_xml
from .roles import RoleSpec, product_roles
from .sitemap import site_map_xml
from .texts import text
from .views import fetch_xml, layout_xml, registration_views, view_id

DEFAULT_SOLUTION = "MemberPlugins"
PUBLISHER = "memberplugins"
# Dataverse's default app icon web resource (Microsoft Learn, "Create, manage, and publish
# model-driven apps using code").
DEFAULT_APP_ICON = "953b9fac-1e5e-e611-80d6-00155ded156f"
MAIN_FORM = 2
PUBLIC_VIEW = 0
UNIFIED_INTERFACE = 4
OWNER_TEAM = 0
_NAMESPACE = uuid.UUID("7d3e1b2a-9c4f-4e8d-a1b6-3f2c5d7e9a01")


class Kind(StrEnum):
    """What a component is; the value is how the plan prints it."""

    PUBLISHER = "publisher"
    SOLUTION = "solution"
    TEAM = "team"
    FORM = "form"
    VIEW = "view"
    SITEMAP = "site map"
    APP = "app"
    ROLE = "role"


@dataclass(frozen=True)
class Component:
    """One row: where it lives, how it is found, what it holds.

    ``row_id`` is the fixed id (None: found by ``key`` columns); ``compared`` are the
    columns whose difference means "update"; ``in_solution`` sends the solution header.
    """

    kind: Kind
    name: str
    entity_set: str
    id_column: str
    body: Mapping[str, Any] = field(repr=False)
    row_id: str | None = None
    key: Mapping[str, str] = field(default_factory=dict)
    compared: tuple[str, ...] = ()
    in_solution: bool = True


@dataclass(frozen=True)
class Workspace:
    """The components in creation order, the roles' privileges and the app's parts."""

    solution: str
    components: tuple[Component, ...]
    roles: tuple[tuple[Component, RoleSpec], ...]
    app: Component
    app_parts: tuple[Component, ...]
    team: Component
    office_role: Component


def fixed_id(key: str) -> str:
    """The stable id of a component the product ships (site map, app, role)."""
    return str(uuid.uuid5(_NAMESPACE, key))


def prefix_of(schema: SchemaMap) -> str:
    """The publisher's customization prefix: the one the product's tables carry (``mp``)."""
    prefix, sep, _ = schema.registration.table.partition("_")
    if not sep:
        raise ValueError(f"the registration table {schema.registration.table} has no prefix")
    return prefix


def option_value_prefix(schema: SchemaMap) -> int:
    """The publisher's choice value prefix: the first five digits of the product's choice
    numbers (100000000 -> 10000)."""
    return min(schema.registration.status_values.values()) // 10_000


def workspace(
    schema_map: SchemaMap,
    schema: Schema,
    language: OfficeLanguage,
    *,
    solution: str = DEFAULT_SOLUTION,
    object_type_code: int | None = None,
) -> Workspace:
    """The workspace for an environment (``object_type_code``: the registration table's)."""
    m = schema_map.registration
    registrations = schema.table(m.table)
    contacts = schema.table(schema_map.contact.table)
    prefix = prefix_of(schema_map)
    publisher = Component(
        Kind.PUBLISHER, PUBLISHER, "publishers", "publisherid",
        body={"uniquename": PUBLISHER, "friendlyname": "Member plugins",
              "customizationprefix": prefix,
              "customizationoptionvalueprefix": option_value_prefix(schema_map),
              "description": "Publisher of the member-plugins workspace"},
        key={"uniquename": PUBLISHER}, in_solution=False,
    )
    solution_row = Component(
        Kind.SOLUTION, solution, "solutions", "solutionid",
        body={"uniquename": solution, "friendlyname": "Member plugins", "version": "1.0.0.0",
              "description": "Alumni office workspace: forms, views, app, roles"},
        key={"uniquename": solution}, in_solution=False,
    )
    team = Component(
        Kind.TEAM, text("team", language), "teams", "teamid",
        body={"name": text("team", language), "teamtype": OWNER_TEAM,
              "description": "Owns the review tasks of alumni registrations"},
        key={"name": text("team", language)}, in_solution=False,
    )
    forms = (
        _form("form.registration", registrations, language, _registration_tabs(schema_map)),
        _form("form.contact", contacts, language, _contact_tabs(schema_map)),
    )
    views = tuple(
        Component(
            Kind.VIEW, text(spec.key, language), "savedqueries", "savedqueryid",
            row_id=view_id(spec.key),
            body={"name": text(spec.key, language), "returnedtypecode": m.table,
                  "querytype": PUBLIC_VIEW,
                  "fetchxml": fetch_xml(spec, m.table, registrations.primary_id),
                  "layoutxml": layout_xml(spec, registrations.primary_id,
                                          registrations.primary_name, object_type_code)},
            compared=("name", "fetchxml", "layoutxml"),
        )
        for spec in registration_views(m)
    )
    site_map = Component(
        Kind.SITEMAP, f"{prefix}_alumnioffice", "sitemaps", "sitemapid",
        row_id=fixed_id("sitemap"),
        body={"sitemapname": text("app", language), "sitemapnameunique": f"{prefix}_alumnioffice",
              "isappaware": True,
              "sitemapxml": site_map_xml("area", (
                  ("group.review", (m.table, schema_map.task.table)),
                  ("group.people", (schema_map.contact.table,)),
              ))},
        compared=("sitemapname", "sitemapxml"),
    )
    app = Component(
        Kind.APP, text("app", language), "appmodules", "appmoduleid",
        row_id=fixed_id("app"),
        body={"name": text("app", language), "uniquename": f"{prefix}_AlumniOffice",
              "description": text("app.description", language),
              "webresourceid": DEFAULT_APP_ICON, "clienttype": UNIFIED_INTERFACE},
        compared=("name", "description"),
    )
    roles = tuple(
        (Component(Kind.ROLE, text(spec.key, language), "roles", "roleid",
                   row_id=fixed_id(spec.key), body={"name": text(spec.key, language)},
                   compared=("name",)), spec)
        for spec in product_roles(schema_map)
    )
    components = (publisher, solution_row, team, *forms, *views, site_map, app,
                  *(role for role, _ in roles))
    return Workspace(
        solution=solution,
        components=components,
        roles=roles,
        app=app,
        app_parts=(site_map, *forms, *views),
        team=team,
        office_role=next(role for role, spec in roles if spec.key == "role.office"),
    )


def _form(key: str, table: Table, language: OfficeLanguage, tabs: tuple[Tab, ...]) -> Component:
    return Component(
        Kind.FORM, text(key, language), "systemforms", "formid", row_id=form_id(key),
        body={"name": text(key, language), "objecttypecode": table.logical_name,
              "type": MAIN_FORM, "formxml": form_xml(key, table, tabs),
              "description": "member-plugins"},
        compared=("name", "formxml"),
    )


def _fields(
    configured: Any, *attributes: str, readonly: tuple[str, ...] = ()
) -> tuple[Field, ...]:
    """Fields for the schema-map ``attributes`` of a table map: the organisation's column,
    labelled by the product's column name (the texts know those)."""
    default = type(configured)()
    return tuple(
        Field(_column(configured, a), _column(default, a), readonly=a in readonly)
        for a in attributes
    )


def _column(table_map: Any, attribute: str) -> str:
    value = getattr(table_map, attribute)
    return value[0] if isinstance(value, tuple) else value


def _registration_tabs(schema: SchemaMap) -> tuple[Tab, ...]:
    m = schema.registration
    shown = ("status", "reason", "explanation", "evidence_text", "proposed_changes",
             "created_on", "processed_on")
    return (
        Tab("review", "tab.review", (
            Section("decision", "section.decision",
                    _fields(m, "status", "office_decision", "person", readonly=shown)),
            Section("why", "section.why",
                    _fields(m, "explanation", "evidence_text", "reason", "proposed_changes",
                            readonly=shown)),
        )),
        Tab("registration", "tab.registration", (
            Section("person", "section.person",
                    _fields(m, "first_name", "last_name", "email", "national_id", "phone",
                            "kind", "self_declared", "terminate_membership")),
            Section("preferences", "section.preferences",
                    _fields(m, "topics", "channels", "consent_version", "consent_on")),
            Section("processing", "section.processing",
                    _fields(m, "created_on", "processed_on", readonly=shown)),
        )),
    )


def _contact_tabs(schema: SchemaMap) -> tuple[Tab, ...]:
    c = schema.contact
    registry = ("protection_level", "deceased", "emigrated", "registry_source",
                "last_enriched_on")
    # Written from the student register only (the degrees are rows of their own table).
    studies = ("study_programmes", "first_study_year", "last_study_year", "study_credits",
               "student_ref")
    return (
        Tab("alumnus", "tab.alumnus", (
            Section("categories", "section.categories",
                    _fields(c, "first_name", "last_name", "emails", "categories", *registry,
                            readonly=registry)),
            Section("studies", "section.studies",
                    _fields(c, *studies, readonly=studies)),
            Section("consent", "section.consent",
                    _fields(c, "consent_version", "consent_on", "consent_source",
                            readonly=("consent_source",))),
            Section("preferences", "section.preferences",
                    _fields(c, "topics", "channels", "no_communication", "do_not_bulk_email")),
        )),
    )
