"""What a benchmark's child process needs to measure itself against a sandbox in its parent.

Benchmarks that print a job's peak memory run the job in a spawned child, so the figure is
the job's own and not the sandbox's rows; the sandbox issues the child a token up front.
"""

from __future__ import annotations

import resource
from pathlib import Path


class StaticToken:
    """A token the sandbox issued, handed to the child process."""

    def __init__(self, token: str) -> None:
        self._token = token

    def token(self, *, force_refresh: bool = False) -> str:
        """The same token every time (it outlives the run)."""
        return self._token


def rss_kib() -> int:
    """The process's resident memory now."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * resource.getpagesize() // 1024


def peak_kib() -> int:
    """The process's peak resident memory (``VmHWM``; unlike ``ru_maxrss`` it does not carry
    the parent's size over from before ``exec``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")
