"""The one error the local host raises for an app it cannot run."""

from __future__ import annotations


class HostError(Exception):
    """The app, its settings or its host.json ask for something the local host cannot do."""
