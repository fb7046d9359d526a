"""The errors a registry adapter raises; every one names the registry.

::

    RegistryError                 base class; ``.registry`` is the registry's name
    ├── RegistryUnavailable       5xx, 429, timeouts or dropped connections persisted
    │                             through every retry (transient: try again later)
    ├── RegistryRejected          the registry refused the request: 401/403 (credentials or
    │                             permission), another 4xx, a SOAP fault, a TLS failure
    └── MalformedResponse         the answer could not be understood (wrong content type,
                                  broken JSON/XML, missing or mistyped fields)

"Not found" is not an error: adapters return None.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class RegistryError(Exception):
    """A registry look-up failed; ``registry`` says which registry."""

    def __init__(self, registry: str, message: str) -> None:
        super().__init__(f"{registry}: {message}")
        self.registry = registry
        self.message = message


class RegistryUnavailable(RegistryError):
    """The registry kept failing transiently (5xx, 429, timeout, connection) past every retry."""


class RegistryRejected(RegistryError):
    """The registry refused the request (authentication, permission, invalid request)."""

    def __init__(self, registry: str, message: str, status: int | None = None) -> None:
        super().__init__(registry, message)
        self.status = status


class MalformedResponse(RegistryError):
    """The registry answered with something the adapter cannot read."""


@contextmanager
def reading(registry: str, what: str) -> Iterator[None]:
    """Turn a field missing or mistyped while reading ``what`` into :class:`MalformedResponse`.

    The message names a missing field but never quotes a value: values are personal data.
    """
    try:
        yield
    except KeyError as exc:
        raise MalformedResponse(registry, f"unexpected {what}: no field {exc.args[0]!r}") from exc
    except (IndexError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedResponse(
            registry, f"unexpected {what}: {type(exc).__name__} while reading it"
        ) from exc
