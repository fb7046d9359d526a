"""What every registry emulator shares: counting, latency, faults and credential checks.

An emulator serves one registry's wire format under ``/registries/<name>/``. Before the
registry logic runs, each request is counted, delayed by ``latency_ms``, and possibly
answered with a fault: first any faults a test queued with :meth:`RegistryEmulator.script`
(deterministic), then the random :class:`~sandbox.protection.FaultInjector` set from the
sandbox config (``latency_ms``, ``fault_rate``, ``fault_kinds``, ``fault_seed``). Fault kinds:
``"429"``, ``"500"``, ``"503"`` (bare answers in the registry's error format), ``"drop"``
(connection closed, no answer), ``"malformed"`` (a 200 the client cannot read, shaped like
that registry's typical failure) and, scripted only, ``"slow"`` (answers after
``slow_seconds``, to trip a client timeout).

Like a population register, which logs every look-up against the lawful basis it was made
on, an emulator keeps the identity numbers it looked up, in order
(:meth:`RegistryEmulator.looked_up`), so tests can check who was asked about.

Client certificates cannot be checked over plain loopback HTTP, so the certificate
registries (Ladok, Navet, SPAR) accept the certificate's subject in the header
``X-Sandbox-Client-Cert``, as a TLS-terminating proxy would forward it; a request without
the expected subject is refused with 403. The registries' other credentials (FS Basic,
Maskinporten tokens, Navet's order and SPAR's customer numbers) are checked for real.
"""

from __future__ import annotations

import json
import threading
import time
from abc import ABC, abstractmethod
from collections import Counter, deque
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from ..protection import DROP, FaultInjector
from .seed import SeedPerson

if TYPE_CHECKING:
    from ..core import Host

CLIENT_CERT_HEADER = "X-Sandbox-Client-Cert"
MALFORMED = "malformed"
SLOW = "slow"

Answer = Callable[[], Response]


def json_answer(
    body: Any, status: int = 200, content_type: str = "application/json;charset=UTF-8"
) -> Response:
    """A JSON body with the registry's content type."""
    return Response(
        json.dumps(body, ensure_ascii=False, default=str), status=status, content_type=content_type
    )


def text_answer(status: int, text: str, headers: Mapping[str, str] | None = None) -> Response:
    """A short plain-text answer (errors of gateways and proxies look like this)."""
    response = Response(f"{text}\n", status=status, content_type="text/plain;charset=UTF-8")
    response.headers.extend(dict(headers or {}))
    return response


class RegistryEmulator(ABC):
    """One registry on the sandbox, with its own counters and faults."""

    name: str

    def __init__(self, sandbox: Host) -> None:
        config = sandbox.config
        self.sandbox = sandbox
        self.prefix = f"/registries/{self.name}/"
        self.latency_ms: float = config.latency_ms
        self.slow_seconds = 2.0
        self.faults = FaultInjector(
            config.fault_rate,
            [k for k in config.fault_kinds if k == DROP or k in self.fault_answers()],
            config.fault_seed,
            answers=self.fault_answers(),
        )
        self._dropper = FaultInjector(1.0, [DROP])
        self._lock = threading.Lock()
        self._scripted: deque[str] = deque()
        self._requests: Counter[str] = Counter()
        self._refused = 0
        self._scripted_faults: Counter[str] = Counter()
        self._looked_up: list[str] = []
        self.people: dict[str, SeedPerson] = {}
        self._refs: dict[str, str] = {}
        self._ids_by_ref: dict[str, str] = {}

    @property
    def base_url(self) -> str:
        """Where clients reach this emulator (the sandbox must be started)."""
        return f"{self.sandbox.base_url}{self.prefix.rstrip('/')}"

    def handle(self, request: Request) -> Response:
        """The sandbox's entry point for every request under :attr:`prefix`."""
        path = request.path[len(self.prefix) :]
        with self._lock:
            self._requests[f"{request.method} {self.route_of(path)}"] += 1
            scripted = self._scripted.popleft() if self._scripted else None
            if scripted is not None:
                self._scripted_faults[scripted] += 1
        if self.latency_ms > 0:
            time.sleep(self.latency_ms / 1000)
        if scripted == SLOW:
            time.sleep(self.slow_seconds)
        elif scripted == DROP:
            return self._dropper.maybe_fault(request) or text_answer(503, "dropped")
        elif scripted is not None:
            return self.fault_answers()[scripted]()
        fault = self.faults.maybe_fault(request)
        if fault is not None:
            return fault
        refusal = self.authenticate(request)
        if refusal is not None:
            with self._lock:
                self._refused += 1
            return refusal
        return self.serve(request, path)

    def add_people(self, people: Mapping[str, SeedPerson]) -> None:
        """Add (or replace) people keyed by national identity number."""
        with self._lock:
            for national_id, person in people.items():
                self.people[national_id] = person
                ref = person.registry_ref or self.new_ref(national_id, len(self._refs))
                self._ids_by_ref.pop(self._refs.get(national_id, ""), None)
                self._refs[national_id] = ref
                self._ids_by_ref[ref] = national_id

    def person(self, national_id: str) -> SeedPerson | None:
        """The person with ``national_id``, or None; the look-up is logged."""
        with self._lock:
            self._looked_up.append(national_id)
            return self.people.get(national_id)

    def looked_up(self) -> list[str]:
        """The identity numbers looked up since the start (or :meth:`reset_stats`), in order."""
        with self._lock:
            return list(self._looked_up)

    def ref_of(self, national_id: str) -> str:
        """The registry's own id of a person (Ladok student UID, FS personløpenummer)."""
        with self._lock:
            return self._refs[national_id]

    def by_ref(self, ref: str) -> tuple[str, SeedPerson] | None:
        """The national id and person with the registry's own id ``ref``."""
        with self._lock:
            national_id = self._ids_by_ref.get(ref)
            return None if national_id is None else (national_id, self.people[national_id])

    def new_ref(self, national_id: str, position: int) -> str:
        """The registry's own id for a person seeded without one."""
        return national_id

    def script(self, *kinds: str) -> None:
        """Answer the next requests with these faults, in order, before serving normally."""
        unknown = [k for k in kinds if k not in (DROP, SLOW, *self.fault_answers())]
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}")
        with self._lock:
            self._scripted.extend(kinds)

    def stats(self) -> dict[str, Any]:
        """Requests by ``"METHOD route"``, credential refusals and faults injected."""
        with self._lock:
            return {
                "requests": sum(self._requests.values()),
                "by_route": dict(self._requests),
                "refused": self._refused,
                "faults": dict(self._scripted_faults + Counter(self.faults.injected)),
            }

    def reset_stats(self) -> None:
        """Forget the counts and the look-ups (injected random faults keep their own running
        total)."""
        with self._lock:
            self._requests.clear()
            self._scripted_faults.clear()
            self._looked_up.clear()
            self._refused = 0

    def route_of(self, path: str) -> str:
        """The path with identifiers replaced, so counts group by operation."""
        return path

    def fault_answers(self) -> dict[str, Answer]:
        """The registry's own shapes of the bare fault answers."""
        return {
            "429": lambda: text_answer(429, "Too Many Requests", {"Retry-After": "1"}),
            "500": lambda: text_answer(500, "Internal Server Error"),
            "503": lambda: text_answer(503, "Service Unavailable"),
            MALFORMED: self.malformed,
        }

    def client_cert_refusal(self, request: Request, subject: str) -> Response | None:
        """403 unless the forwarded client-certificate subject is ``subject``."""
        if request.headers.get(CLIENT_CERT_HEADER) == subject:
            return None
        return text_answer(403, "client certificate required")

    @abstractmethod
    def malformed(self) -> Response:
        """A 200 answer the client cannot read."""

    @abstractmethod
    def authenticate(self, request: Request) -> Response | None:
        """The refusal for a request without the registry's credentials, or None."""

    @abstractmethod
    def serve(self, request: Request, path: str) -> Response:
        """Answer an authenticated request for ``path`` (relative to :attr:`prefix`)."""
