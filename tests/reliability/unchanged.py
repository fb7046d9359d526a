"""Proof that nothing was written: the Web API requests made, and the product's rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from plugins.core.schema_map import SchemaMap
from sandbox.app import Sandbox
from sandbox.webapi.context import API_PATH

BATCH = f"{API_PATH}$batch"
MAP = SchemaMap()
# The tables the product writes (the sandbox keeps its own bookkeeping, such as system jobs).
PRODUCT_TABLES = (MAP.registration.table, MAP.contact.table, MAP.task.table)


def row_versions(sandbox: Sandbox) -> dict[tuple[str, str], int]:
    """Every row of the product's tables, with the version its last write gave it."""
    return {
        (table, row.id): row.version
        for table in PRODUCT_TABLES
        for row in sandbox.store.rows(table)
    }


@contextmanager
def nothing_written(sandbox: Sandbox) -> Iterator[None]:
    """Assert that the block sent no Web API write and changed none of the product's rows
    (reads, and ``$batch`` reads, are allowed; a ``$batch`` that wrote changed a row)."""
    before = row_versions(sandbox)
    already = len(sandbox.request_log.entries())
    yield
    writes = [
        f"{e.method} {e.path}" for e in sandbox.request_log.entries()[already:]
        if e.path.startswith(API_PATH) and e.method != "GET"
        and not (e.method == "POST" and e.path == BATCH)
    ]
    assert writes == [], writes
    assert row_versions(sandbox) == before
