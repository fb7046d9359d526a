"""The Dataverse Web API client: every request to Dataverse goes through :meth:`_send`.

That one method (the chokepoint) sets the OData headers (``Accept``, ``OData-MaxVersion``,
``OData-Version``, ``If-None-Match: null`` on reads that are not conditional,
``Content-Type`` with a body), the bearer token, ``User-Agent: member-plugins/<version>``,
a fresh ``x-ms-client-request-id`` per request (kept across its retries) and the
``x-ms-correlation-request-id`` of the logical operation (one per public call, or the incoming
event's via :meth:`correlation`); it counts requests, applies the timeout, and retries:

- 429 after ``Retry-After`` seconds; 502/503/504, connection errors and timeouts after a
  jittered exponential backoff; all within ``retry_budget_seconds`` and ``max_attempts``.
  Past them a 429 is :class:`ThrottledError`, a 5xx :class:`TransientError`, a connection
  problem :class:`TransportError`;
- 401 once, with a token acquired past msal's cache (a key roll-over, a revoked token).

Every attempt first takes a slot of the process's :class:`~.throttle.ThrottleBudget` for the
Dataverse user (at most ``max_concurrent_requests`` in flight; after a 429 everyone waits out
its ``Retry-After``; one at a time while the rate-limit headers report the window spent). A
call that would have to wait past ``retry_budget_seconds`` fails at once with
:class:`ThrottledError` carrying the wait, so its caller can put the work back for later.

Other error statuses become the typed errors of :mod:`plugins.dataverse.errors`.

Rows are addressed by table (an entity set name, or a schema table with ``entity_set``,
``logical_name`` and ``primary_id``) and key (a GUID or ``{column: value}`` of an alternate
key); URLs and literals come from :mod:`plugins.dataverse.odata` only. Every write takes an
optional ``tag`` (``?tag=``; default ``DataverseSettings.write_tag``) that Dataverse hands to
the steps it triggers as the ``tag`` shared variable, so the product can recognise its own
changes.

A client is thread-safe and pools as many connections as it lets requests run at once in one
``requests.Session``; create one per process and share it.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import threading
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_not_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from plugins.core.metrics import count_retry, count_throttled
from plugins.core.settings import DataverseSettings

from . import batch as batching
from . import odata
from .auth import TokenProvider, token_provider_for
from .batch import ACTION_PREFIX
from .errors import (
    BatchError,
    DataverseError,
    ThrottledError,
    TransportError,
    error_from_response,
    retry_after_seconds,
)
from .odata import Expand, Filter, Key, OrderBy
from .throttle import ThrottleBudget, WaitTooLong, shared_budget
from .transport import new_session, user_agent

log = logging.getLogger(__name__)

API_PATH = "/api/data/v9.2/"
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
# A refused, reset or timed-out connection, or an answer cut off mid-body. A failed TLS
# verification is a ConnectionError too, but retrying cannot fix it.
CONNECTION_PROBLEMS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
BACKOFF_CAP_SECONDS = 30.0

_correlation: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "dataverse_correlation_id", default=None
)


class TableRef(Protocol):
    """A table as the schema map describes it (``plugins.core.schema.Table`` is one)."""

    @property
    def entity_set(self) -> str: ...

    @property
    def logical_name(self) -> str: ...

    @property
    def primary_id(self) -> str: ...


TableSpec = str | TableRef
"""An entity set name (``contacts``) or a schema table."""


class UpsertMode(Enum):
    """What an upsert may do: create or update (default), only create, only update."""

    EITHER = "either"
    CREATE_ONLY = "create_only"
    UPDATE_ONLY = "update_only"


@dataclass(frozen=True)
class WriteResult:
    """What a create, update or upsert told us.

    ``id`` comes from ``OData-EntityId`` or the returned representation (None when an upsert
    by alternate key echoed the key instead of the GUID); ``created`` is known when the
    answer says so (representation 201/200, or a create-only/update-only upsert).
    """

    id: str | None
    etag: str | None = None
    record: dict[str, Any] | None = None
    created: bool | None = None


class RequestCounter:
    """HTTP requests sent to Dataverse, by method (retries count; thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, method: str) -> None:
        """Count one request."""
        with self._lock:
            self._counts[method] += 1

    def by_method(self) -> dict[str, int]:
        """A snapshot: ``{"GET": 3, "PATCH": 1}``."""
        with self._lock:
            return dict(self._counts)

    @property
    def total(self) -> int:
        """All requests so far."""
        with self._lock:
            return sum(self._counts.values())

    def reset(self) -> None:
        """Start counting from zero."""
        with self._lock:
            self._counts.clear()


class _RetryableStatus(Exception):
    """A response worth another attempt (429, 502, 503, 504)."""

    def __init__(self, response: requests.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _note_retry(state: RetryCallState) -> None:
    """Count and log a retry, so ops see throttling and faults before they become failures."""
    exc = state.outcome.exception() if state.outcome else None
    if isinstance(exc, _RetryableStatus):
        reason = str(exc.response.status_code)
        if exc.response.status_code == 429:
            count_throttled("dataverse")
    else:
        reason = type(exc).__name__
    count_retry("dataverse", reason)
    wait = state.next_action.sleep if state.next_action else 0.0
    log.warning(
        "Dataverse request retried (attempt %d, %s); waiting %.2f s", state.attempt_number,
        reason, wait,
    )


class DataverseClient:
    """The one way the product talks to the Dataverse Web API."""

    def __init__(
        self,
        settings: DataverseSettings,
        *,
        token_provider: TokenProvider | None = None,
        session: requests.Session | None = None,
        budget: ThrottleBudget | None = None,
    ) -> None:
        if not settings.url:
            raise DataverseError("DataverseSettings.url (the environment URL) is not set")
        self.settings = settings
        self.api_url = settings.url.rstrip("/") + API_PATH
        self.request_counter = RequestCounter()
        self._tokens = token_provider or token_provider_for(settings)
        concurrency = settings.max_concurrent_requests
        self.budget = budget or shared_budget(settings.url, settings.client_id, concurrency)
        self._http = session or new_session(settings, pool_size=concurrency)
        self._user_agent = user_agent(settings)
        self._backoff = wait_random_exponential(
            multiplier=settings.retry_backoff_seconds, max=BACKOFF_CAP_SECONDS
        )

    def close(self) -> None:
        """Close the pooled connections."""
        self._http.close()

    def __enter__(self) -> DataverseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    @contextmanager
    def correlation(correlation_id: str | None) -> Iterator[None]:
        """Send ``correlation_id`` (e.g. the incoming event's) on every request in the block."""
        token = _correlation.set(correlation_id)
        try:
            yield
        finally:
            _correlation.reset(token)

    # ------------------------------------------------------------------ reads

    def call_function(
        self, name: str, parameters: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Call an unbound function (``WhoAmI``, ``ValidateApp(AppModuleId=...)``); its JSON
        answer. Parameters are written inline as OData literals (a GUID unquoted)."""
        inline = ",".join(
            f"{odata.identifier(key)}={odata.literal(value)}"
            for key, value in (parameters or {}).items()
        )
        call = f"{odata.identifier(name)}({inline})" if parameters else odata.identifier(name)
        path = odata.encode_path(call)
        return self._send("GET", path, correlation_id=_correlation_id()).json()

    def call_action(
        self, name: str, parameters: Mapping[str, Any] | None = None, *,
        solution: str | None = None,
    ) -> dict[str, Any]:
        """POST an unbound action (``AddAppComponents``, ``PublishXml``) with ``parameters``
        as its body; its JSON answer (empty for 204). ``solution`` as for :meth:`create`."""
        headers = {"MSCRM.SolutionUniqueName": solution} if solution else {}
        path = self._write_path(odata.encode_path(odata.identifier(name)), None)
        response = self._send(
            "POST", path, json_body=dict(parameters or {}), headers=headers,
            correlation_id=_correlation_id(),
        )
        return response.json() if response.content else {}

    def get(
        self,
        table: TableSpec,
        key: Key,
        *,
        select: Sequence[str] = (),
        expand: Sequence[Expand] = (),
        if_none_match: str | None = None,
    ) -> dict[str, Any] | None:
        """One row. With ``if_none_match`` (an ETag), None when it has not changed (304)."""
        query = odata.query_string(select=select, expand=expand)
        path = odata.with_query(odata.entity_path(_entity_set(table), key), query)
        headers = {"If-None-Match": if_none_match} if if_none_match else {}
        response = self._send("GET", path, headers=headers, correlation_id=_correlation_id())
        if response.status_code == 304:
            return None
        return response.json()

    def query(
        self,
        table: TableSpec,
        *,
        select: Sequence[str] = (),
        filter: Filter | None = None,
        orderby: Sequence[OrderBy] = (),
        top: int | None = None,
        expand: Sequence[Expand] = (),
        page_size: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Rows matching the query, fetched page by page as the caller iterates.

        Pages are ``odata.maxpagesize`` rows (``page_size`` or the setting); the next page is
        requested only when the previous one is used up. Dataverse ignores ``$top`` when a
        page size is asked for, so with ``top`` no page size is sent.
        """
        query = odata.query_string(
            select=select, filter=filter, orderby=orderby, top=top, expand=expand
        )
        first = odata.with_query(odata.encode_path(odata.identifier(_entity_set(table))), query)
        size = page_size or self.settings.page_size
        headers = {} if top is not None else {"Prefer": f"odata.maxpagesize={size}"}
        return self._pages(first, headers, top)

    def view_rows(self, table: TableSpec, view_id: str) -> list[dict[str, Any]]:
        """The rows a saved view (``savedquery``) returns: ``GET <set>?savedQuery=<id>``, in
        the view's order with the view's columns."""
        path = odata.with_query(
            odata.encode_path(odata.identifier(_entity_set(table))),
            odata.query_string(extra={"savedQuery": odata.guid(view_id)}),
        )
        return list(self._send("GET", path, correlation_id=_correlation_id()).json()["value"])

    def related(
        self, table: TableSpec, key: Key, navigation: str, *, select: Sequence[str] = ()
    ) -> Iterator[dict[str, Any]]:
        """The rows a collection-valued navigation property of one row lists
        (``teams(<id>)/teamroles_association``), page by page."""
        base = odata.entity_path(_entity_set(table), key)
        first = odata.with_query(f"{base}/{odata.identifier(navigation)}",
                                 odata.query_string(select=select))
        return self._pages(first, {"Prefer": f"odata.maxpagesize={self.settings.page_size}"},
                           None)

    def _pages(
        self, first: str, headers: Mapping[str, str], top: int | None
    ) -> Iterator[dict[str, Any]]:
        correlation_id = _correlation_id()
        url: str | None = first
        returned = 0
        while url is not None:
            page = self._send("GET", url, headers=headers, correlation_id=correlation_id).json()
            for row in page.get("value", []):
                if top is not None and returned >= top:
                    return
                returned += 1
                yield row
            url = page.get("@odata.nextLink")

    # ----------------------------------------------------------------- writes

    def create(
        self,
        table: TableSpec,
        record: Mapping[str, Any],
        *,
        return_representation: bool = False,
        select: Sequence[str] = (),
        tag: str | None = None,
        solution: str | None = None,
    ) -> WriteResult:
        """POST a new row; its id comes from ``OData-EntityId`` or the representation.

        ``solution`` adds a new solution-aware row (form, view, app, site map, role) to that
        unmanaged solution (``MSCRM.SolutionUniqueName``)."""
        path = odata.encode_path(odata.identifier(_entity_set(table)))
        headers = {"MSCRM.SolutionUniqueName": solution} if solution else {}
        return self._write_row(
            "POST", table, path, record, headers=headers, created=True,
            return_representation=return_representation, select=select, tag=tag,
        )

    def update(
        self,
        table: TableSpec,
        key: Key,
        record: Mapping[str, Any],
        *,
        if_match: str = "*",
        return_representation: bool = False,
        select: Sequence[str] = (),
        tag: str | None = None,
    ) -> WriteResult:
        """PATCH an existing row: ``if_match`` an ETag (412 when stale) or ``*`` (404 when
        the row is gone); never creates."""
        path = odata.entity_path(_entity_set(table), key)
        return self._write_row(
            "PATCH", table, path, record, headers={"If-Match": if_match}, created=False,
            return_representation=return_representation, select=select, tag=tag,
        )

    def upsert(
        self,
        table: TableSpec,
        key: Key,
        record: Mapping[str, Any],
        *,
        mode: UpsertMode = UpsertMode.EITHER,
        return_representation: bool = False,
        select: Sequence[str] = (),
        tag: str | None = None,
    ) -> WriteResult:
        """PATCH by primary or alternate key: create or update (``mode`` may restrict it).

        Create-only fails with :class:`DuplicateRecordError` when the row exists; update-only
        with :class:`NotFoundError` when it does not.
        """
        path = odata.entity_path(_entity_set(table), key)
        headers: dict[str, str] = {}
        if mode is UpsertMode.CREATE_ONLY:
            headers["If-None-Match"] = "*"
        elif mode is UpsertMode.UPDATE_ONLY:
            headers["If-Match"] = "*"
        known = {UpsertMode.CREATE_ONLY: True, UpsertMode.UPDATE_ONLY: False}.get(mode)
        return self._write_row(
            "PATCH", table, path, record, headers=headers, created=known,
            return_representation=return_representation, select=select, tag=tag,
        )

    def delete(
        self, table: TableSpec, key: Key, *, if_match: str | None = None, tag: str | None = None
    ) -> None:
        """DELETE a row (conditional on ``if_match`` when given); 404 when it is not there."""
        path = self._write_path(odata.entity_path(_entity_set(table), key), tag)
        headers = {"If-Match": if_match} if if_match else {}
        self._send("DELETE", path, headers=headers, correlation_id=_correlation_id())

    def associate(
        self,
        table: TableSpec,
        key: Key,
        navigation: str,
        related_table: TableSpec,
        related_key: Key,
        *,
        tag: str | None = None,
    ) -> None:
        """Add the related row to the collection navigation ``navigation`` (1:N or N:N)."""
        base = odata.entity_path(_entity_set(table), key)
        path = self._write_path(f"{base}/{odata.identifier(navigation)}/$ref", tag)
        related = self.api_url + odata.entity_path(_entity_set(related_table), related_key)
        self._send(
            "POST", path, json_body={"@odata.id": related}, correlation_id=_correlation_id()
        )

    def disassociate(
        self,
        table: TableSpec,
        key: Key,
        navigation: str,
        related_key: Key | None = None,
        *,
        tag: str | None = None,
    ) -> None:
        """Remove ``related_key`` from a collection navigation, or clear a single-valued one
        (``related_key`` None)."""
        base = odata.entity_path(_entity_set(table), key)
        nav = odata.identifier(navigation)
        if related_key is not None:
            nav = f"{nav}({odata.encode_path(odata.key_segment(related_key))})"
        path = self._write_path(f"{base}/{nav}/$ref", tag)
        self._send("DELETE", path, correlation_id=_correlation_id())

    def call_bound_action(
        self,
        table: TableSpec,
        key: Key,
        action: str,
        parameters: Mapping[str, Any] | None = None,
        *,
        tag: str | None = None,
    ) -> dict[str, Any]:
        """POST an action bound to one row (``emails(<id>)/Microsoft.Dynamics.CRM.SendEmail``)
        with ``parameters`` as its body; the action's JSON answer (empty for 204)."""
        row = odata.entity_path(_entity_set(table), key)
        path = self._write_path(f"{row}/{ACTION_PREFIX}{odata.identifier(action)}", tag)
        response = self._send(
            "POST", path, json_body=dict(parameters or {}), correlation_id=_correlation_id()
        )
        return response.json() if response.content else {}

    # --------------------------------------------------------------- metadata

    def read_metadata(
        self, path: str, *, select: Sequence[str] = (), expand: Sequence[Expand] = ()
    ) -> dict[str, Any]:
        """GET a metadata resource, e.g. ``EntityDefinitions(LogicalName='contact')`` or
        ``GlobalOptionSetDefinitions(Name='x')`` (a relative path built with
        :mod:`plugins.dataverse.odata`); :class:`NotFoundError` when it does not exist."""
        query = odata.query_string(select=select, expand=expand)
        response = self._send(
            "GET", odata.with_query(path, query), correlation_id=_correlation_id()
        )
        return response.json()

    def create_metadata(
        self, path: str, definition: Mapping[str, Any], *, solution: str | None = None
    ) -> str | None:
        """POST a metadata definition (table, column, choice, key, relationship) to ``path``;
        the new MetadataId from ``OData-EntityId``. ``solution`` adds the new component to
        that unmanaged solution (``MSCRM.SolutionUniqueName``)."""
        headers = {"MSCRM.SolutionUniqueName": solution} if solution else {}
        response = self._send(
            "POST", path, json_body=dict(definition), headers=headers,
            correlation_id=_correlation_id(),
        )
        return odata.entity_id_from_url(response.headers.get("OData-EntityId", ""))

    # ------------------------------------------------------------------ batch

    def execute_batch(
        self, request: batching.BatchRequest, *, continue_on_error: bool = False
    ) -> list[batching.BatchPartResult]:
        """Send a ``$batch``; one result per response, in order.

        By default Dataverse stops at the first failure (a change set rolls back as a whole)
        and this raises :class:`BatchError` naming the failing part. With
        ``continue_on_error`` every request runs and failures are left in the results.
        The write tag goes on the ``$batch`` URL and on every write part that has a URL.
        """
        content_type, body = batching.encode(request, API_PATH, self._tag(None))
        headers = {"Content-Type": content_type}
        if continue_on_error:
            headers["Prefer"] = "odata.continue-on-error"
        response = self._send(
            "POST", self._write_path("$batch", None), data=body, headers=headers,
            correlation_id=_correlation_id(), raise_for_status=False,
        )
        answer_type = response.headers.get("Content-Type", "")
        if batching.boundary_of(answer_type) is None:
            if response.ok:
                raise DataverseError(f"$batch answered {answer_type!r}, not multipart")
            raise error_from_response(response.status_code, response.headers, response.content)
        results = batching.parse_response(answer_type, response.content)
        if not continue_on_error:
            for part in results:
                if not part.ok:
                    error = error_from_response(part.status, part.headers, part.body)
                    raise BatchError(part, error)
        return results

    # ------------------------------------------------------------- bulk actions

    def create_multiple(
        self,
        table: TableRef,
        records: Iterable[Mapping[str, Any]],
        *,
        chunk_size: int | None = None,
        tag: str | None = None,
    ) -> list[str]:
        """CreateMultiple in chunks; the new ids in the order of ``records``."""
        targets = [_typed(table, record) for record in records]
        answers = self._run_chunks(table, "CreateMultiple", targets, chunk_size, tag)
        return [str(i).lower() for answer in answers for i in answer.json().get("Ids", [])]

    def update_multiple(
        self,
        table: TableRef,
        records: Iterable[Mapping[str, Any]],
        *,
        chunk_size: int | None = None,
        tag: str | None = None,
    ) -> None:
        """UpdateMultiple in chunks; every record carries its primary key column."""
        targets = []
        for record in records:
            if not record.get(table.primary_id):
                raise ValueError(f"UpdateMultiple needs '{table.primary_id}' in every record")
            targets.append(_typed(table, record))
        self._run_chunks(table, "UpdateMultiple", targets, chunk_size, tag)

    def upsert_multiple(
        self,
        table: TableRef,
        items: Iterable[tuple[Key, Mapping[str, Any]]],
        *,
        chunk_size: int | None = None,
        tag: str | None = None,
    ) -> None:
        """UpsertMultiple in chunks; each item is ``(key, record)``.

        The key goes into ``@odata.id``; its columns are left out of the record, because
        Dataverse's create path fails (400 ``0x80040216``) when a key column is in both.
        """
        targets = []
        for key, record in items:
            body = dict(record)
            if isinstance(key, Mapping):
                for column, value in key.items():
                    if column in body and body.pop(column) != value:
                        raise ValueError(f"record's {column!r} differs from its key")
            body["@odata.id"] = odata.entity_path(table.entity_set, key)
            targets.append(_typed(table, body))
        self._run_chunks(table, "UpsertMultiple", targets, chunk_size, tag)

    def _run_chunks(
        self,
        table: TableRef,
        action: str,
        targets: list[dict[str, Any]],
        chunk_size: int | None,
        tag: str | None,
    ) -> list[requests.Response]:
        size = chunk_size or self.settings.bulk_chunk_size
        if size < 1:
            raise ValueError(f"chunk size must be positive, not {size}")
        chunks = [targets[i : i + size] for i in range(0, len(targets), size)]
        set_path = odata.encode_path(odata.identifier(table.entity_set))
        path = self._write_path(f"{set_path}/{ACTION_PREFIX}{action}", tag)
        correlation_id = _correlation_id()

        def send(chunk: list[dict[str, Any]]) -> requests.Response:
            return self._send(
                "POST", path, json_body={"Targets": chunk}, correlation_id=correlation_id
            )

        workers = min(self.settings.bulk_parallelism, len(chunks))
        if workers <= 1:
            return [send(chunk) for chunk in chunks]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dataverse") as pool:
            futures = [pool.submit(send, chunk) for chunk in chunks]
            return _results_in_order(futures, size, len(targets))

    # -------------------------------------------------------------- chokepoint

    def _send(
        self,
        method: str,
        url: str,
        *,
        correlation_id: str,
        json_body: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        raise_for_status: bool = True,
    ) -> requests.Response:
        """Send one logical request, with retries, and return its (successful) response."""
        target = self._absolute(url)
        prepared = self._headers(method, headers or {}, correlation_id, json_body is not None)
        budget = self.settings.retry_budget_seconds
        retrying = Retrying(
            retry=retry_if_exception_type((_RetryableStatus, *CONNECTION_PROBLEMS))
            & retry_if_not_exception_type(requests.exceptions.SSLError),
            wait=self._wait,
            stop=stop_after_attempt(self.settings.max_attempts) | stop_before_delay(budget),
            before_sleep=_note_retry,
            reraise=True,
        )
        deadline = self.budget.now() + budget
        try:
            response = retrying(
                self._attempt, method, target, prepared, json_body, data, deadline
            )
        except WaitTooLong as exc:
            count_throttled("dataverse")
            raise ThrottledError(
                429, "", f"{method} not sent: {exc} (service protection)",
                retry_after=exc.seconds,
            ) from None
        except _RetryableStatus as exc:
            failed = exc.response
            raise error_from_response(failed.status_code, failed.headers, failed.content) from None
        except CONNECTION_PROBLEMS as exc:
            raise TransportError(f"{method} {_redacted(target)}: {exc}") from exc
        if raise_for_status and response.status_code >= 400:
            raise error_from_response(response.status_code, response.headers, response.content)
        return response

    def _attempt(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        json_body: Any,
        data: bytes | None,
        deadline: float,
    ) -> requests.Response:
        """One try in a slot of the user's budget: send with the current token; on 401 once
        more with a fresh one."""
        with self.budget.slot(deadline):
            token = self._tokens.token()
            response = self._transmit(method, url, headers, json_body, data, token)
            if response.status_code == 401:
                fresh = self._tokens.token(force_refresh=True)
                response = self._transmit(method, url, headers, json_body, data, fresh)
        if response.status_code == 429:
            seconds = retry_after_seconds(response.headers)
            self.budget.throttled(seconds if seconds is not None else 1.0)
        else:
            self.budget.answered(response.headers)
        if response.status_code in RETRYABLE_STATUSES:
            raise _RetryableStatus(response)
        return response

    def _transmit(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        json_body: Any,
        data: bytes | None,
        token: str,
    ) -> requests.Response:
        self.request_counter.add(method)
        if json_body is not None:
            data = json.dumps(json_body, default=odata.json_default).encode("utf-8")
        return self._http.request(
            method,
            url,
            headers={**headers, "Authorization": f"Bearer {token}"},
            data=data,
            timeout=self.settings.request_timeout_seconds,
            allow_redirects=False,
        )

    def _headers(
        self,
        method: str,
        extra: Mapping[str, str],
        correlation_id: str,
        has_json: bool,
    ) -> dict[str, str]:
        headers = {
            "Accept": "application/json",
            "OData-MaxVersion": "4.0",
            "OData-Version": "4.0",
            "User-Agent": self._user_agent,
            "x-ms-client-request-id": str(uuid.uuid4()),
            "x-ms-correlation-request-id": correlation_id,
        }
        if method == "GET" and "If-None-Match" not in extra:
            headers["If-None-Match"] = "null"
        if has_json:
            headers["Content-Type"] = "application/json"
        headers.update(extra)
        return headers

    def _absolute(self, url: str) -> str:
        """``url`` against the service root; absolute URLs (nextLink) must stay under it."""
        if "://" not in url:
            return self.api_url + url
        if not url.startswith(self.api_url):
            # The bearer token must never leave for another host.
            raise DataverseError(f"refusing to follow a link outside {self.api_url}: {url}")
        return url

    def _wait(self, state: RetryCallState) -> float:
        """``Retry-After`` for a 429 that has one; otherwise jittered exponential backoff."""
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, _RetryableStatus) and error.response.status_code == 429:
            # Another caller's 429 may have asked for longer than this one's.
            return max(self.budget.pause_seconds, retry_after_seconds(error.response.headers) or 0)
        return self._backoff(state)

    def _write_row(
        self,
        method: str,
        table: TableSpec,
        path: str,
        record: Mapping[str, Any],
        *,
        headers: Mapping[str, str],
        created: bool | None,
        return_representation: bool,
        select: Sequence[str],
        tag: str | None,
    ) -> WriteResult:
        """Send one row's create, update or upsert to ``path`` (``headers`` are the
        conditions); ``created`` is what the request says about the row, None if unknown."""
        path = self._write_path(path, tag, select if return_representation else ())
        if return_representation:
            headers = {**headers, "Prefer": "return=representation"}
        response = self._send(
            method, path, json_body=dict(record), headers=headers,
            correlation_id=_correlation_id(),
        )
        return _write_result(table, response, created=created)

    def _write_path(self, path: str, tag: str | None, select: Sequence[str] = ()) -> str:
        effective = self._tag(tag)
        extra = {"tag": effective} if effective else None
        return odata.with_query(path, odata.query_string(select=select, extra=extra))

    def _tag(self, tag: str | None) -> str | None:
        return tag if tag is not None else self.settings.write_tag


def _results_in_order(
    futures: list[Future[requests.Response]], size: int, total: int
) -> list[requests.Response]:
    """Each chunk's response; the first failure is raised once the others have settled."""
    results: list[requests.Response] = []
    for index, future in enumerate(futures):
        try:
            results.append(future.result())
        except DataverseError as exc:
            for pending in futures[index + 1 :]:
                pending.cancel()
            first, last = index * size + 1, min((index + 1) * size, total)
            exc.add_note(f"bulk chunk {index + 1} of {len(futures)} (rows {first}-{last})")
            raise
    return results


def _entity_set(table: TableSpec) -> str:
    return table if isinstance(table, str) else table.entity_set


def _typed(table: TableRef, record: Mapping[str, Any]) -> dict[str, Any]:
    return {**record, "@odata.type": f"{ACTION_PREFIX}{table.logical_name}"}


def _write_result(
    table: TableSpec, response: requests.Response, created: bool | None
) -> WriteResult:
    etag = response.headers.get("ETag")
    record: dict[str, Any] | None = None
    row_id = odata.entity_id_from_url(response.headers.get("OData-EntityId", ""))
    if response.status_code in (200, 201) and response.content:
        record = response.json()
        etag = etag or record.get("@odata.etag")
        if row_id is None and not isinstance(table, str):
            value = record.get(table.primary_id)
            row_id = value.lower() if isinstance(value, str) else None
        created = response.status_code == 201
    return WriteResult(id=row_id, etag=etag, record=record, created=created)


def _correlation_id() -> str:
    return _correlation.get() or str(uuid.uuid4())


def _redacted(url: str) -> str:
    """The URL without query and key values (keys and filters may hold personal data)."""
    return re.sub(r"\([^()]*\)", "(...)", url.split("?", 1)[0])
