"""Queries that only look rows up by an alternate key, answered from the key's index.

Dataverse backs every alternate key with a unique SQL index, so ``mp_key eq 'a' or mp_key eq
'b'`` costs a few index seeks however large the table is. The sandbox scans rows for any
other filter; a filter that compares one column of a single-column key with values, and
nothing else, is answered here from the store's key index instead, with the same rows.
"""

from __future__ import annotations

import re

from plugins.core.schema import Table

from ..store import Row, Store

_TERM = r"\(?([A-Za-z_][A-Za-z0-9_]*) eq '((?:[^']|'')*)'\)?"
_WHOLE = re.compile(rf"^{_TERM}(?: or {_TERM})*$")
_EACH = re.compile(_TERM)


def key_lookup(store: Store, table: Table, filter_text: str | None) -> list[Row] | None:
    """The rows ``filter_text`` selects when it is such a key look-up; None otherwise."""
    if not filter_text or not _WHOLE.match(filter_text):
        return None
    terms = _EACH.findall(filter_text)
    columns = {column for column, _ in terms}
    if len(columns) != 1:
        return None
    [column] = columns
    key = next((k for k in table.keys if k.columns == (column,)), None)
    if key is None:
        return None
    found: dict[str, Row] = {}
    for _, value in terms:
        row = store.find_by_key(table.logical_name, key.name, {column: value.replace("''", "'")})
        if row is not None:
            found[row.id] = row
    return list(found.values())
