"""Sending messages to an Azure Service Bus topic or queue over its REST API (an adapter)."""
