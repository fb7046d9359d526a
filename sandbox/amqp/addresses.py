"""What an AMQP link address names in a Service Bus namespace.

The azure-servicebus SDK attaches links to ``$cbs`` (claims-based security), to an entity
(``amqps://<host>/<queue>`` or just ``<queue>``), to a queue's dead-letter sub-queue
(``<queue>/$DeadLetterQueue``) and to an entity's management node (``<entity>/$management``).
Topics and subscriptions (``<topic>/Subscriptions/<name>``) are not served.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from urllib.parse import urlsplit

CBS_NODE = "$cbs"
MANAGEMENT_SEGMENT = "$management"
DEAD_LETTER_SEGMENT = "$deadletterqueue"


class NodeKind(Enum):
    """The kinds of node a link can attach to."""

    CBS = "cbs"
    QUEUE = "queue"
    DEAD_LETTERS = "dead-letters"
    MANAGEMENT = "management"


class UnsupportedAddress(ValueError):
    """The address names something this peer does not serve (topics, subscriptions...)."""


@dataclass(frozen=True)
class Node:
    """A parsed address: its kind, the queue it belongs to and, for management, which one."""

    kind: NodeKind
    queue: str = ""
    dead_letters: bool = False

    @property
    def entity(self) -> str:
        """The entity path as Service Bus spells it (``orders/$DeadLetterQueue``)."""
        return f"{self.queue}/$DeadLetterQueue" if self.dead_letters else self.queue


def parse_address(address: str | None) -> Node:
    """The node an address names; :class:`UnsupportedAddress` for anything else."""
    if not address:
        raise UnsupportedAddress("the link has no address")
    path = urlsplit(address).path if "://" in address else address
    segments = [s for s in path.split("/") if s]
    if segments == [CBS_NODE]:
        return Node(NodeKind.CBS)
    management = bool(segments) and segments[-1].lower() == MANAGEMENT_SEGMENT
    if management:
        segments = segments[:-1]
    dead_letters = len(segments) == 2 and segments[1].lower() == DEAD_LETTER_SEGMENT
    if dead_letters:
        segments = segments[:1]
    if len(segments) != 1:
        raise UnsupportedAddress(
            f"'{address}' is not a queue of this namespace (topics and subscriptions are "
            "not served by the sandbox)"
        )
    if management:
        return Node(NodeKind.MANAGEMENT, segments[0], dead_letters)
    kind = NodeKind.DEAD_LETTERS if dead_letters else NodeKind.QUEUE
    return Node(kind, segments[0], dead_letters)
