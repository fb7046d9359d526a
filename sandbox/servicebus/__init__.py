"""A local Azure Service Bus namespace (queues only) for the sandbox and the functions host."""

from .namespace import Namespace
from .queue import LockLostError, Message, Queue

__all__ = ["LockLostError", "Message", "Namespace", "Queue"]
