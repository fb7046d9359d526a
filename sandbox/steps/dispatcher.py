"""The event pipeline for registered steps: synchronous steps inside the caller's transaction,
asynchronous ones through a background "async service" that records system jobs.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .. import errors
from ..store import Caller, ChangeEvent, Lookup, utc_now_text
from . import catalog, queue_delivery, webhook
from .context import EMPTY_GUID, Invocation, Organization, build_context
from .delivery import Delivery, DeliveryFailedError
from .matching import STEP_TABLE, matching_steps
from .registrations import CONTRACT_WEBHOOK, STAGE_POST_OPERATION, Step

if TYPE_CHECKING:
    from ..core import Host
    from ..servicebus import Namespace

log = logging.getLogger(__name__)

ISV_ABORTED = "0x80040265"
# 0x80040265 as the signed integer the asyncoperation.errorcode column holds.
ISV_ABORTED_ERRORCODE = 0x80040265 - (1 << 32)
SYSTEM_EVENT = 1
STATE_READY, STATE_COMPLETED = 0, 3
STATUS_WAITING_FOR_RESOURCES, STATUS_SUCCEEDED, STATUS_FAILED = 0, 30, 31


@dataclass(frozen=True)
class _Job:
    operation_id: str
    step: Step
    delivery: Delivery


class StepDispatcher:
    """Delivers the ``RemoteExecutionContext`` of registered steps as Dataverse does.

    A :class:`~sandbox.store.ChangeListener`: ``before_commit`` posts synchronous steps (any
    stage) and turns a failure into an error that rolls the caller's transaction back;
    ``after_commit`` records a system job (``asyncoperation``) per asynchronous post-operation
    step and queues it for the worker, which delivers it and completes the job. The
    dispatcher's own writes (system jobs) never fire steps.
    """

    def __init__(self, sandbox: Host, servicebus: Namespace) -> None:
        self.sandbox = sandbox
        self._servicebus = servicebus
        self.organization = Organization.named(sandbox.config.organization_name)
        self._caller = Caller(user_id=sandbox.system_caller.user_id)
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._pending = 0
        self._idle = threading.Condition()
        self._worker: threading.Thread | None = None
        self._worker_lock = threading.Lock()
        catalog.seed(sandbox.store, sandbox.schema, self._caller)
        sandbox.store.listeners.append(self)

    # ------------------------------------------------------------ listener

    def before_commit(self, events: list[ChangeEvent]) -> None:
        """Deliver synchronous steps; a failed one aborts the caller's operation."""
        for event in self._foreign(events):
            for step in matching_steps(self.sandbox.store, event):
                if step.is_async:
                    continue
                delivery = self._delivery(event, step, event.operation_id)
                try:
                    self._deliver(delivery)
                except DeliveryFailedError as exc:
                    raise errors.ODataError(
                        400,
                        ISV_ABORTED,
                        f"An error occurred in the synchronous step '{step.name}' "
                        f"(sdkmessageprocessingstep {step.id}): {exc.message}",
                    ) from exc

    def after_commit(self, events: list[ChangeEvent]) -> None:
        """Record a system job per asynchronous step and queue it for the async service."""
        for event in self._foreign(events):
            for step in matching_steps(self.sandbox.store, event):
                if not step.is_async or step.stage != STAGE_POST_OPERATION:
                    continue
                operation_id = self._record_waiting(event, step)
                job = _Job(operation_id, step, self._delivery(event, step, operation_id))
                with self._idle:
                    self._pending += 1
                self._ensure_worker()
                self._jobs.put(job)

    # ------------------------------------------------------------ lifecycle

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every queued asynchronous delivery is done; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def stop(self) -> None:
        """End the async service's worker (queued deliveries that have not run are dropped)."""
        with self._worker_lock:
            worker, self._worker = self._worker, None
        if worker is None:
            return
        self._jobs.put(None)
        worker.join(timeout=10)

    # ------------------------------------------------------------ internals

    def _foreign(self, events: list[ChangeEvent]) -> list[ChangeEvent]:
        return [e for e in events if e.caller is not self._caller]

    def _ensure_worker(self) -> None:
        with self._worker_lock:
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._run, name="sandbox-async-service", daemon=True
                )
                self._worker.start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                self._complete(job)
            except Exception:
                log.exception("sandbox: async step %s failed unexpectedly", job.step.id)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _complete(self, job: _Job) -> None:
        try:
            self._deliver(job.delivery)
        except DeliveryFailedError as exc:
            self._record_outcome(
                job.operation_id,
                {
                    "statuscode": STATUS_FAILED,
                    "message": exc.message,
                    "friendlymessage": exc.friendly,
                    "errorcode": ISV_ABORTED_ERRORCODE,
                },
            )
            return
        if job.step.async_auto_delete:
            with self.sandbox.store.transaction(self._caller):
                if self.sandbox.store.get("asyncoperation", job.operation_id) is not None:
                    self.sandbox.store.delete("asyncoperation", job.operation_id)
            return
        self._record_outcome(job.operation_id, {"statuscode": STATUS_SUCCEEDED})

    def _deliver(self, delivery: Delivery) -> None:
        if delivery.endpoint.contract == CONTRACT_WEBHOOK:
            webhook.post(delivery, self.sandbox.config.webhook_timeout_seconds)
        else:
            queue_delivery.send(delivery, self._servicebus)

    def _record_waiting(self, event: ChangeEvent, step: Step) -> str:
        store = self.sandbox.store
        with store.transaction(self._caller):
            row = store.insert(
                "asyncoperation",
                {
                    "name": step.name,
                    "operationtype": SYSTEM_EVENT,
                    "correlationid": event.caller.correlation_id,
                    "owningextensionid": Lookup(STEP_TABLE, step.id),
                    "statecode": STATE_READY,
                    "statuscode": STATUS_WAITING_FOR_RESOURCES,
                },
            )
        return row.id

    def _record_outcome(self, operation_id: str, values: dict[str, object]) -> None:
        store = self.sandbox.store
        with store.transaction(self._caller):
            if store.get("asyncoperation", operation_id) is None:
                return
            store.update(
                "asyncoperation",
                operation_id,
                {**values, "statecode": STATE_COMPLETED, "completedon": utc_now_text()},
            )

    def _delivery(self, event: ChangeEvent, step: Step, operation_id: str) -> Delivery:
        invocation = Invocation(
            event=event,
            table=self.sandbox.schema.table(event.table),
            step=step,
            organization=self.organization,
            operation_id=operation_id,
            user_aad_object_id=self._aad_object_id(event.caller.user_id),
        )
        caller = event.caller
        return Delivery(
            endpoint=step.endpoint,
            context=build_context(invocation),
            organization_host=self._organization_host(),
            entity_name=event.table,
            message_name=event.message,
            correlation_id=caller.correlation_id,
            user_id=caller.user_id,
            initiating_user_id=caller.user_id,
            user_agent=caller.user_agent,
        )

    def _aad_object_id(self, user_id: str) -> str:
        user = self.sandbox.store.get("systemuser", user_id)
        return (user.values.get("azureactivedirectoryobjectid") if user else None) or EMPTY_GUID

    def _organization_host(self) -> str:
        # Dataverse sends its environment's host name; the sandbox's is host:port.
        return urlsplit(self.sandbox.base_url).netloc or self.sandbox.config.host
