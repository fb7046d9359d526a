"""The sandbox's Service Bus queues over AMQP 1.0, for the unmodified azure-servicebus SDK."""

from .peer import AmqpPeer

__all__ = ["AmqpPeer"]
