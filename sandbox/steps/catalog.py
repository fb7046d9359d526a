"""The ``sdkmessage`` and ``sdkmessagefilter`` rows every environment has.

Admins look these up to register a step (reference §5.2 steps 2-3):
``sdkmessages?$filter=name eq 'Update'`` and
``sdkmessagefilters?$filter=primaryobjecttypecode eq 'contact' and sdkmessageid/name eq 'Update'``.
"""

from __future__ import annotations

import uuid

from plugins.core.schema import Schema

from ..store import Caller, Lookup, Store

MESSAGES = (
    "Create",
    "Update",
    "Delete",
    "Associate",
    "Disassociate",
    "SetState",
    "Assign",
    "CreateMultiple",
    "UpdateMultiple",
    "UpsertMultiple",
)


def message_id(name: str) -> str:
    """The sandbox's (stable) id of an ``sdkmessage``."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox:sdkmessage:{name}"))


def filter_id(message: str, table: str) -> str:
    """The sandbox's (stable) id of the ``sdkmessagefilter`` for a message on a table."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sandbox:sdkmessagefilter:{message}:{table}"))


def seed(store: Store, schema: Schema, caller: Caller) -> None:
    """Insert one ``sdkmessage`` per message and one filter per (message, table)."""
    with store.transaction(caller):
        for name in MESSAGES:
            store.insert("sdkmessage", {"name": name}, row_id=message_id(name))
        add_filters(store, [table.logical_name for table in schema.tables], caller)


def add_filters(store: Store, tables: list[str], caller: Caller) -> None:
    """Insert one filter per (message, table) for ``tables`` (as Dataverse does for a table
    created at run time)."""
    with store.transaction(caller):
        for name in MESSAGES:
            for table in tables:
                store.insert(
                    "sdkmessagefilter",
                    {
                        "primaryobjecttypecode": table,
                        "secondaryobjecttypecode": "none",
                        "sdkmessageid": Lookup("sdkmessage", message_id(name)),
                    },
                    row_id=filter_id(name, table),
                )
