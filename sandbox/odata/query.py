"""Run a collection query over a table's rows: filter, count, order, one page.

Paging is keyset paging: the cookie of page *n* holds the sort position of the last row of
page *n-1*, and the page starts right after it in the (total) order. Rows inserted while a
client pages are therefore never returned twice and never shift the pages.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress, islice
from operator import attrgetter

from ..store import Row
from .catalog import Catalog
from .compiler import Predicate, compile_filter
from .fields import RowFields
from .options import OrderItem, QueryOptions
from .ordering import Ordering, ordering_for
from .parser import parse_filter
from .skiptoken import read_cookie, write_cookie

MAX_PAGE_SIZE = 5000
MAX_COUNT = 5000
_TIME_RELATIVE = ("Today", "Yesterday", "Tomorrow", "LastX", "NextX")


@dataclass(frozen=True)
class Page:
    """One page of a query's result."""

    rows: list[Row]
    matched: int | None
    """how many rows the filter matched in all (uncapped); only counted for ``$count``"""
    skiptoken: str | None
    """the ``$skiptoken`` of the next page, when there is one"""


@dataclass(frozen=True)
class _TableOrder:
    """A table's rows in one ordering, valid while the table holds the same row objects.

    ``index[k]`` is the insertion position of ``ordered[k]``: a filter scans the rows in
    insertion (memory) order, which is several times faster than in sorted order, and the
    resulting mask is then permuted into the ordering.
    """

    snapshot: list[Row]
    ordered: list[Row]
    index: array[int]


class _Holder:
    """The current order of one table and ordering; replaced whole, never half-built."""

    def __init__(self) -> None:
        self.order: _TableOrder | None = None


def row_fields(catalog: Catalog, logical_name: str) -> RowFields:
    """The (shared) property resolver of a table."""
    return catalog.memo.get(
        ("fields", logical_name), lambda: RowFields(catalog, catalog.info(logical_name))
    )


def row_filter(fields: RowFields, text: str) -> Predicate:
    """The compiled ``$filter``; reused across requests unless it depends on the clock."""
    if any(word in text for word in _TIME_RELATIVE):
        return compile_filter(parse_filter(text), fields)
    return fields.catalog.memo.get(
        ("filter", fields.info.logical_name, text),
        lambda: compile_filter(parse_filter(text), fields),
    )


def row_ordering(fields: RowFields, orderby: tuple[OrderItem, ...]) -> Ordering:
    """The (cached) ordering of ``$orderby`` items on the table."""
    return fields.catalog.memo.get(
        ("ordering", fields.info.logical_name, orderby), lambda: ordering_for(fields, orderby)
    )


def run_query(
    rows: Sequence[Row],
    fields: RowFields,
    options: QueryOptions,
    page_size: int,
    top: int | None,
    *,
    whole_table: bool = False,
) -> Page:
    """Filter, sort and cut one page out of ``rows``.

    ``top`` caps the rows delivered over all pages (None: no cap); ``options.skiptoken``
    says where this page starts. With ``whole_table`` (``rows`` is a table's
    :meth:`~sandbox.store.Store.rows`) and a filter that keeps many rows, the table's order
    is reused across requests while no row changes, so such a page costs one filter pass
    and no sort; the few rows of a selective filter are simply sorted.
    """
    ordering = row_ordering(fields, options.orderby)
    keep = row_filter(fields, options.filter) if options.filter else None
    accepted = None if keep is None else bytes(_tested(rows, keep))
    mask: bytes | None = None
    if whole_table and ordering.stable and not _selective(accepted, rows):
        order = _table_order(fields, ordering, rows)
        ordered = order.ordered
        if accepted is not None:
            mask = bytes(map(accepted.__getitem__, order.index))
    else:
        ordered = list(rows) if accepted is None else list(compress(rows, accepted))
        ordering.sort(ordered)
    start, number = 0, 1
    if options.skiptoken:
        cookie = read_cookie(options.skiptoken, ordering)
        start, number = ordering.index_after(ordered, cookie.after), cookie.page
    limit = page_size
    if top is not None:
        limit = max(0, min(page_size, top - (number - 1) * page_size))
    positions: Iterable[int] = range(start, len(ordered))
    if mask is not None:
        positions = compress(positions, islice(mask, start, None))
    taken = [ordered[position] for position in islice(positions, limit + 1)]
    page = taken[:limit]
    more = len(taken) > limit
    if top is not None:
        more = more and (number - 1) * page_size + limit < top
    token = None
    if more and page:
        token = write_cookie(
            number + 1, ordering, ordering.position(page[0]), ordering.position(page[-1])
        )
    matched = None
    if options.count:
        matched = len(ordered) if mask is None else mask.count(1)
    return Page(page, matched, token)


_VALUES = attrgetter("values")


def _selective(accepted: bytes | None, rows: Sequence[Row]) -> bool:
    """Whether the filter kept few enough rows that sorting them beats the table order."""
    return accepted is not None and accepted.count(1) * 4 <= len(rows)


def _tested(rows: Sequence[Row], keep: Predicate) -> Iterator[bool]:
    """``keep`` applied to each row's values (the loop itself runs in C)."""
    return map(keep, map(_VALUES, rows))


def _table_order(fields: RowFields, ordering: Ordering, rows: Sequence[Row]) -> _TableOrder:
    """The table sorted by ``ordering``, sorted again only when a row changed."""
    holder = fields.catalog.memo.get(("table-order", fields.info.logical_name, ordering), _Holder)
    order = holder.order
    if order is not None and order.snapshot == rows:
        return order
    snapshot = list(rows)
    positions = ordering.sorted_positions(snapshot)
    order = _TableOrder(snapshot, list(map(snapshot.__getitem__, positions)), array("l", positions))
    holder.order = order
    return order
