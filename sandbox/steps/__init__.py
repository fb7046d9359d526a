"""Dataverse's event pipeline for registered steps: matching, the ``RemoteExecutionContext``
and its delivery to webhooks and Service Bus queues."""

from .dispatcher import StepDispatcher

__all__ = ["StepDispatcher"]
