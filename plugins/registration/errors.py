"""Why processing a registration stopped, as the triggers need to know it.

::

    RegistrationError          base class
    ├── TransientFailure       a technical error (Dataverse throttled/unavailable/unreachable,
    │                          a registry failing, 412s that kept coming): nothing was written,
    │                          the registration stays Received; the trigger answers 503 or lets
    │                          the message be redelivered, and the sweep retries it later
    ├── RegistrationGone       the row the event names no longer exists: settled, not retried
    └── StaleWrite             the change set met a newer version (412) or a row that vanished
                               (404): re-read and decide again (handled inside the service)
"""

from __future__ import annotations


class RegistrationError(Exception):
    """Base of the errors the registration pipeline raises."""


class TransientFailure(RegistrationError):
    """Processing failed for a technical reason; it is worth trying again later.

    ``retry_after`` is how long Dataverse asked to wait (seconds) when it throttled.
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RegistrationGone(RegistrationError):
    """The registration the event is about does not exist (any more)."""


class StaleWrite(RegistrationError):
    """The change set was refused because what it was based on has changed."""
