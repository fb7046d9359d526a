"""The registration pipeline's test environment: an HTTPS sandbox with seeded people and
registry data, and the local Functions host running the product's ``function_app.py``.

The webhook and Service Bus steps are registered through the Web API exactly as an admin
registers them (:mod:`steps_registration`); :meth:`PipelineEnv.route` enables the steps of
one transport and disables the others, as an admin would in the Plug-in Registration Tool.
The ``parked`` route sends events to a queue nobody listens to, so a test can deliver a real
event late, twice or at the same time (:meth:`PipelineEnv.deliver_parked`).
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import requests
from conftest import WebApiSession
from pydantic import SecretStr
from selfservice_harness import free_port
from steps_registration import register_queue, register_step, register_webhook
from werkzeug.wrappers import Request, Response

from sandbox.app import Sandbox
from sandbox.config import SandboxConfig
from sandbox.errors import ODataError
from sandbox.host import LocalHost
from sandbox.servicebus.queue import Message
from sandbox.store import Caller
from sandbox.webapi.context import API_PATH

FUNCTION_APP = Path(__file__).resolve().parents[2] / "function_app.py"
WEBHOOK_KEY = "registration-webhook-key"
QUEUE = "mp-registration-events"
PARKED = "mp-registration-parked"
ALUMNI_RULE = {"any_of": [{"kind": "degree_awarded"}, {"kind": "min_credits", "credits": 60},
                          {"kind": "self_declared"}]}
# Never during a test run: the tests start the sweep themselves.
IDLE_SCHEDULE = "0 0 0 1 1 *"
CA_BUNDLE = "REQUESTS_CA_BUNDLE"
Route = Literal["webhook", "servicebus", "parked"]
# The registries the product may reach, by settings section, with settings to change.
Registers = Mapping[str, Mapping[str, Any]]
LADOK_NAVET: Registers = {"ladok": {}, "navet": {}}


def personnummer(birth: str, serial: str) -> str:
    """A valid 12-digit Swedish personnummer for ``YYYYMMDD`` and a 3-digit serial."""
    digits = birth[2:] + serial
    total = 0
    for index, char in enumerate(digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return f"{birth}{serial}{(10 - total % 10) % 10}"


def connection_string(sandbox: Sandbox) -> str:
    """The (HTTPS) sandbox's Service Bus namespace as a connection string."""
    port = sandbox.base_url.rsplit(":", 1)[1]
    return (
        f"Endpoint=sb://127.0.0.1:{port}/servicebus/;SharedAccessKeyName=sandbox;"
        "SharedAccessKey=sandbox"
    )


def app_settings(
    sandbox: Sandbox, key_file: Path, team_id: str, enabled: Registers = LADOK_NAVET
) -> dict[str, str]:
    """The app settings of the product against ``sandbox`` (the ``enabled`` registries with
    their changed settings, Ladok + Navet by default; the alumni rule)."""
    config = sandbox.config
    registries = sandbox.registries.client_settings(key_file)
    registries = registries.model_copy(update={
        "http": registries.http.model_copy(update={"max_attempts": 2, "backoff_seconds": 0}),
        **{
            name: getattr(registries, name).model_copy(update={
                "enabled": name in enabled, "ca_bundle": sandbox.ca_file,
                **enabled.get(name, {}),
            })
            for name in ("ladok", "navet", "fs", "spar", "folkeregisteret")
        },
    })
    return {
        "DATAVERSE__URL": sandbox.base_url,
        "DATAVERSE__TENANT_ID": config.tenant_id,
        "DATAVERSE__CLIENT_ID": config.client_id,
        "DATAVERSE__CLIENT_SECRET": config.client_secret,
        "DATAVERSE__AUTHORITY_HOST": sandbox.base_url,
        "DATAVERSE__CA_BUNDLE": sandbox.ca_file or "",
        "DATAVERSE__MAX_ATTEMPTS": "2",
        "DATAVERSE__RETRY_BACKOFF_SECONDS": "0.01",
        "DATAVERSE__RETRY_BUDGET_SECONDS": "5",
        "REGISTRIES": json.dumps(registries.model_dump(), default=_secret),
        "REGISTRATION__ALUMNI_RULE": json.dumps(ALUMNI_RULE),
        "REGISTRATION__STUDENT_REGISTRY": "ladok",
        "REGISTRATION__POPULATION_REGISTRY": "navet",
        "REGISTRATION__REVIEW_TEAM_ID": team_id,
        "REGISTRATION__SWEEP_AGE_MINUTES": "0",
        "REGISTRATION_SWEEP_SCHEDULE": IDLE_SCHEDULE,
        "REGISTRATION_QUEUE": QUEUE,
        # The sandbox models a task's owner per target table (owningteam), not Dataverse's
        # polymorphic ``ownerid`` navigation property.
        "SCHEMA_MAP__TASK__OWNER_NAV": "owningteam",
        "ServiceBusConnection": connection_string(sandbox),
    }


def _secret(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


@dataclass
class PipelineEnv:
    """A started sandbox and host with the registration steps registered."""

    sandbox: Sandbox
    host: LocalHost
    dv: WebApiSession
    team_id: str
    steps: dict[Route, list[str]] = field(default_factory=dict)

    # ------------------------------------------------------------------ setup

    def register_steps(self) -> None:
        """Create and Update(mp_status, mp_officedecision) steps for each route, through
        the Web API."""
        webhook = register_webhook(
            self.dv, f"{self.host.base_url}/api/registration/events", 4, WEBHOOK_KEY
        )
        endpoints: dict[Route, str] = {
            "webhook": webhook,
            "servicebus": register_queue(self.dv, QUEUE),
            "parked": register_queue(self.dv, PARKED),
        }
        for route, endpoint in endpoints.items():
            self.steps[route] = [
                register_step(self.dv, endpoint, "Create", "mp_registration"),
                register_step(self.dv, endpoint, "Update", "mp_registration",
                              filtering_attributes="mp_status,mp_officedecision"),
            ]

    def route(self, wanted: Route) -> None:
        """Enable the steps of one route and disable the others."""
        for route, step_ids in self.steps.items():
            state = (0, 1) if route == wanted else (1, 2)
            for step_id in step_ids:
                response = self.dv.patch(
                    f"sdkmessageprocessingsteps({step_id})",
                    json={"statecode": state[0], "statuscode": state[1]},
                )
                assert response.status_code == 204, response.text

    @contextmanager
    def routed(self, route: Route) -> Iterator[None]:
        """Use ``route`` in the block, then the webhook again; events parked and never
        delivered (the pipeline's own, caused by its writes) are dropped."""
        self.route(route)
        try:
            yield
        finally:
            self.route("webhook")
            self.take_parked()

    # ------------------------------------------------------------------ rows

    def create_contact(self, **columns: Any) -> str:
        response = self.dv.post("contacts", json=columns,
                                headers={"Prefer": "return=representation"})
        assert response.status_code == 201, response.text
        return response.json()["contactid"]

    def create_registration(
        self, *, correlation_id: str | None = None, tag: str | None = None, **columns: Any
    ) -> str:
        """POST a registration (as a form would) and return its id."""
        body = {"mp_name": "registration", "mp_status": 100000000, **columns}
        headers = {"x-ms-correlation-request-id": correlation_id} if correlation_id else {}
        resource = "mp_registrations" + (f"?tag={tag}" if tag else "")
        response = self.dv.post(resource, json=body, headers=headers)
        assert response.status_code == 204, response.text
        return response.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")

    def registration(self, registration_id: str) -> dict[str, Any]:
        response = self.dv.get(f"mp_registrations({registration_id})")
        assert response.status_code == 200, response.text
        return response.json()

    def office_view(self, registration_id: str) -> tuple[str, str, int, bool]:
        """What the office sees of a registration: status, reason, open review tasks, and
        whether it names its person."""
        row = self.registration(registration_id)
        return (row["mp_status"], row["mp_reason"], len(self.tasks(registration_id)),
                row["_mp_personid_value"] is not None)

    def contacts(self, national_id: str) -> list[dict[str, Any]]:
        return self.query(f"contacts?$filter=mp_nationalid eq '{national_id}'")

    def contact(self, contact_id: str) -> dict[str, Any]:
        response = self.dv.get(f"contacts({contact_id})")
        assert response.status_code == 200, response.text
        return response.json()

    def tasks(self, registration_id: str) -> list[dict[str, Any]]:
        return self.query(f"tasks?$filter=_regardingobjectid_value eq {registration_id}")

    def query(self, resource: str) -> list[dict[str, Any]]:
        response = self.dv.get(resource)
        assert response.status_code == 200, response.text
        return response.json()["value"]

    # --------------------------------------------------------------- waiting

    def settle(self, timeout: float = 15.0) -> None:
        """Wait until the steps, the queue and the host are all idle."""
        deadline = time.monotonic() + timeout
        for _ in range(3):
            left = max(0.1, deadline - time.monotonic())
            assert self.sandbox.steps.wait_idle(left), "steps still delivering"
            assert self.host.wait_idle(max(0.1, deadline - time.monotonic())), "host busy"
        assert self.sandbox.steps.wait_idle(max(0.1, deadline - time.monotonic()))

    def round_trips(self, correlation_id: str) -> int:
        """Web API requests the pipeline made for one registration (not the test's create)."""
        made = self.sandbox.request_log.count(prefix=API_PATH, correlation_id=correlation_id)
        return made - 1

    # ----------------------------------------------------------- parked events

    def take_parked(self) -> list[Message]:
        """The events parked so far (taken off the parked queue)."""
        assert self.sandbox.steps.wait_idle(10)
        namespace = self.sandbox.servicebus
        taken = []
        while (message := namespace.receive(PARKED)) is not None:
            assert message.lock_token is not None
            namespace.queue(PARKED).complete(message.sequence_number, message.lock_token)
            taken.append(message)
        return taken

    def post_together(self, bodies: list[bytes]) -> None:
        """POST events to the webhook at the same time (the queue takes them in one batch, so
        concurrent deliveries race on the per-event path, or between instances)."""
        url = f"{self.host.base_url}/api/registration/events"
        answers: list[int] = []
        threads = [
            threading.Thread(target=lambda body=body: answers.append(requests.post(
                url, params={"code": WEBHOOK_KEY}, data=body, timeout=30).status_code))
            for body in bodies
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert answers == [200] * len(bodies)

    def deliver(self, messages: list[Message], copies: int = 1) -> None:
        """Put parked events on the pipeline's queue, ``copies`` times each."""
        for message in messages:
            for _ in range(copies):
                self.sandbox.servicebus.send(
                    QUEUE,
                    message.body,
                    content_type=message.content_type,
                    application_properties=dict(message.application_properties),
                    message_id=str(uuid.uuid4()),
                )

    def deliver_together(
        self, messages: list[Message], copies: int = 1, poison: bytes | None = None
    ) -> int:
        """Put ``messages`` (and a ``poison`` body that is no event) on the queue so they all
        become available together, and so reach the function as one batch; the Web API
        requests the pipeline made for them."""
        queue = self.sandbox.servicebus.queue(QUEUE)
        moment = datetime.now(UTC) + timedelta(seconds=60)
        for message in messages:
            for _ in range(copies):
                queue.send(message.body, content_type=message.content_type,
                           application_properties=dict(message.application_properties),
                           message_id=str(uuid.uuid4()), scheduled_enqueue_time_utc=moment)
        if poison is not None:
            queue.send(poison, content_type="application/json",
                       scheduled_enqueue_time_utc=moment)
        before = self.sandbox.request_log.count(prefix=API_PATH)
        self.sandbox.servicebus.advance_clock(61)
        self.settle()
        return self.sandbox.request_log.count(prefix=API_PATH) - before

    # ---------------------------------------------------------------- faults

    @contextmanager
    def failing_writes(self, times: int, when: Callable[[Request], bool]) -> Iterator[list[int]]:
        """Answer the next ``times`` Web API requests ``when`` selects with 503, even inside a
        change set (which then rolls back). Yields the list of failures so far."""
        failures: list[int] = []
        lock = threading.Lock()
        webapi = self.sandbox.webapi
        original = webapi.dispatch

        def dispatch(request: Request, caller: Caller) -> Response:
            with lock:
                fail = when(request) and len(failures) < times
                if fail:
                    failures.append(1)
            if fail:
                raise ODataError(503, "", "Service Unavailable (injected by the test)")
            return original(request, caller)

        webapi.dispatch = dispatch  # type: ignore[method-assign]
        try:
            yield failures
        finally:
            webapi.dispatch = original  # type: ignore[method-assign]

    @contextmanager
    def change_sets_meet(self, parties: int = 2) -> Iterator[None]:
        """Hold the next ``parties`` change sets until all of them have arrived, so they
        are decided on the same reads and race each other to commit."""
        barrier = threading.Barrier(parties, timeout=10)
        held = {"count": 0}
        lock = threading.Lock()
        webapi = self.sandbox.webapi
        original = webapi.dispatch

        def dispatch(request: Request, caller: Caller) -> Response:
            if request.path.endswith("/$batch") and b"changeset_" in request.get_data():
                with lock:
                    wait = held["count"] < parties
                    held["count"] += 1
                if wait:
                    barrier.wait()
            return original(request, caller)

        webapi.dispatch = dispatch  # type: ignore[method-assign]
        try:
            yield
        finally:
            webapi.dispatch = original  # type: ignore[method-assign]


def is_task_create(request: Request) -> bool:
    """A POST that creates a task (inside a change set, or on its own)."""
    return request.method == "POST" and request.path.endswith("/tasks")


@contextmanager
def pipeline_env(
    tmp: Path,
    seed: dict[str, Any],
    settings: dict[str, str] | None = None,
    registries: Registers = LADOK_NAVET,
    **config: Any,
) -> Iterator[PipelineEnv]:
    """Start the sandbox (HTTPS, for msal; ``config``: more :class:`SandboxConfig` fields,
    such as a fault seed) and the host (``settings``: more app settings; ``registries``:
    the registry emulators the product may reach); register the steps; stop both."""
    sandbox = Sandbox(SandboxConfig(https=True, state_dir=str(tmp), **config), seed=seed).start()
    dv = WebApiSession(sandbox)
    host: LocalHost | None = None
    # The host's Service Bus client trusts what REQUESTS_CA_BUNDLE names, and this machine
    # already sets it (so the app setting cannot): point it at the sandbox's CA meanwhile.
    bundle = os.environ.get(CA_BUNDLE)
    os.environ[CA_BUNDLE] = sandbox.ca_file or ""
    try:
        team = dv.post("teams", json={"name": "Alumni office"},
                       headers={"Prefer": "return=representation"})
        assert team.status_code == 201, team.text
        team_id = team.json()["teamid"]
        port = free_port()
        host = LocalHost(
            str(FUNCTION_APP),
            port=port,
            function_keys={"registration_webhook": WEBHOOK_KEY},
            settings={
                **app_settings(sandbox, tmp / "maskinporten.pem", team_id, registries),
                # E-mailed links of the pages point here (never at a request's Host).
                "SELFSERVICE__PUBLIC_BASE_URL": f"http://127.0.0.1:{port}/api/mypage",
                **(settings or {}),
            },
            servicebus_poll_seconds=0.02,
        ).start()
        env = PipelineEnv(sandbox=sandbox, host=host, dv=dv, team_id=team_id)
        env.register_steps()
        yield env
    finally:
        if host is not None:
            host.stop()
        if bundle is None:
            os.environ.pop(CA_BUNDLE, None)
        else:
            os.environ[CA_BUNDLE] = bundle
        dv.close()
        sandbox.stop()
