"""One endpoint, two consumers: which service an incoming Dataverse event goes to.

``member-plugins register`` registers every step the product needs on one endpoint (the
webhook ``/api/registration/events``, or one Service Bus queue), so the registration
pipeline's triggers receive every event. :class:`EventDispatcher` routes it by table:

- the registration table's events go to
  :class:`~plugins.registration.service.RegistrationService`;
- the tables :class:`~plugins.sync.follow_ups.FollowUps` watches (registrations, for
  approvals; memberships; the configured trigger tables) go to it, when follow-ups are
  enabled;
- a created erasure request goes to
  :class:`~plugins.sync.erasure_requests.ErasureRequests`, when erasure is enabled.

A registration status change goes to both, in that order: the pipeline follows an
administrator's decision up, and the follow-ups start the onboarding series of an approval
(the pipeline's own approval too). Either failing for a technical reason raises one of
:data:`RETRYABLE`, so the event is delivered again; both are idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from plugins.core.events import DataverseEvent
from plugins.registration.batches import BatchProcessor
from plugins.registration.errors import TransientFailure
from plugins.registration.service import Outcome, RegistrationService
from plugins.servicebus.sender import TopicSender
from plugins.sms.acs import AcsSmsSender
from plugins.sync.erasure_requests import ErasureFailure, ErasureRequests
from plugins.sync.follow_ups import FollowUpFailure, FollowUps

RETRYABLE = (TransientFailure, FollowUpFailure, ErasureFailure)
"""The failures a trigger answers with 503 (webhook) or a redelivery (queue)."""


class EventDispatcher:
    """Hands each event to the services that act on its table."""

    def __init__(
        self,
        registration: RegistrationService,
        follow_ups: FollowUps | None = None,
        sender: TopicSender | AcsSmsSender | None = None,
        erasure: ErasureRequests | None = None,
    ) -> None:
        self.registration = registration
        self.follow_ups = follow_ups
        self.erasure = erasure
        self._sender = sender

    def handle(self, event: DataverseEvent) -> Outcome:
        """The registration pipeline's outcome ("ignored" for another table's event)."""
        if event.table == self.registration.schema.registration.table:
            outcome = self.registration.handle_event(event)
        else:
            outcome = Outcome(
                registration_id=None, result="ignored", detail=f"event for table {event.table}"
            )
        if self.follow_ups is not None and event.table in self.follow_ups.tables:
            self.follow_ups.handle(event)
        if self.erasure is not None and event.table == self.erasure.table:
            self.erasure.handle_event(event, datetime.now(UTC))
        return outcome

    def handle_batch(self, events: Sequence[DataverseEvent]) -> list[Outcome | Exception]:
        """One result per event: the registration pipeline's outcome, or the failure (one of
        :data:`RETRYABLE`) that means this event, and only this one, should come again.

        Registrations are decided together (:class:`BatchProcessor`); the follow-ups then
        see each event on its own, as with :meth:`handle`.
        """
        results: list[Outcome | Exception] = list(
            BatchProcessor(self.registration).handle(events)
        )
        if self.follow_ups is None:
            return results
        for index, event in enumerate(events):
            if event.table not in self.follow_ups.tables:
                continue
            try:
                self.follow_ups.handle(event)
            except FollowUpFailure as exc:
                if not isinstance(results[index], Exception):
                    results[index] = exc
        return results

    def close(self) -> None:
        """Close the Dataverse client, the registry adapters and the Service Bus sender."""
        self.registration.client.close()
        self.registration.registries.close()
        if self._sender is not None:
            self._sender.close()
