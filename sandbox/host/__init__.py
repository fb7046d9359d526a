"""A small local Azure Functions host for a v2-model ``function_app.py``.

The real host cannot run here (Core Tools download the .NET host from a CDN at install
time, and there is no ``dotnet`` to build it), so :class:`LocalHost` loads the app module
unchanged and drives its HTTP, timer and Service Bus queue triggers with the same
``azure.functions`` types and converters the Python worker uses. It is a development tool:
nothing under ``plugins/`` imports it, and in Azure the real host runs the same app.

Usage::

    settings = read_local_settings(Path("local.settings.json"))
    with LocalHost("function_app", settings=settings) as host:
        requests.get(f"{host.base_url}/api/health?code={host.keys.function_key('health')}")
        host.run_timer("nightly")
        host.wait_idle(10)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from ..wsgiserver import ServerThread
from .config import (
    EnvironmentOverlay,
    HostConfig,
    UnresolvedSetting,
    app_configuration,
    read_local_settings,
    resolve_setting_expression,
)
from .errors import HostError
from .http import FunctionsHttp
from .invoker import Invoker
from .keys import KeyRing
from .loader import SERVICEBUS_TRIGGER, TIMER_TRIGGER, FunctionEntry, LoadedApp, load_app
from .ncrontab import ScheduleError
from .queue_consumer import QueueConsumer
from .servicebus import ConnectionInfo, QueueClient
from .timers import TimerRunner, Timers

__all__ = ["HostError", "LocalHost", "read_local_settings"]

log = logging.getLogger(__name__)

DEFAULT_SERVICEBUS_CONNECTION = "AzureWebJobsServiceBus"
DEFAULT_POLL_SECONDS = 0.2


class LocalHost:
    """Serve one function app on a loopback port and run its timers and queue triggers.

    ``settings`` become environment variables (like ``local.settings.json`` ``Values``
    under Core Tools) before the app is imported, and are removed again on :meth:`stop`.
    ``function_keys`` maps function names to keys; keys not given, and the master key when
    ``master_key`` is None, are generated (read them from :attr:`keys`).
    ``servicebus_poll_seconds`` is how long a queue trigger waits after finding its queue
    empty before asking again; ``servicebus_ca_bundle`` is the CA that a TLS namespace (the
    HTTPS sandbox) is verified with.

    As on Azure, a function whose binding cannot be set up (a ``%NAME%`` that does not
    resolve, a schedule that does not parse) is *in error*: it is logged, listed in
    :attr:`function_errors` and at ``GET /admin/functions/<name>/status``, and does not run,
    while the other functions work.
    """

    def __init__(
        self,
        app_module: str = "function_app",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        function_keys: dict[str, str] | None = None,
        master_key: str | None = None,
        settings: Mapping[str, str] | None = None,
        servicebus_poll_seconds: float = DEFAULT_POLL_SECONDS,
        servicebus_ca_bundle: str | None = None,
    ) -> None:
        self.app_module = app_module
        self._servicebus_ca_bundle = servicebus_ca_bundle
        self._host = host
        self._port = port
        self._function_keys = dict(function_keys or {})
        self._master_key = master_key
        self._environment = EnvironmentOverlay(settings or {})
        self._poll_seconds = servicebus_poll_seconds
        self.base_url = ""
        self.app: LoadedApp | None = None
        self.keys: KeyRing | None = None
        self._timers: Timers | None = None
        self._consumers: list[QueueConsumer] = []
        self._server: ServerThread | None = None
        self.function_errors: dict[str, str] = {}

    def start(self) -> LocalHost:
        """Apply the settings, load the app, start HTTP, timers and queue consumers."""
        self._environment.apply()
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop everything :meth:`start` started (waiting for running invocations)."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        for consumer in self._consumers:
            consumer.stop()
        self._consumers = []
        if self._timers is not None:
            self._timers.stop()
            self._timers = None
        self._environment.restore()

    def __enter__(self) -> LocalHost:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def run_timer(self, name: str) -> None:
        """Run timer function ``name`` now and return when it is done."""
        if self._timers is None:
            raise HostError("the host is not running")
        self._timers.run(name)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no message is being processed and every trigger queue is empty.

        True when that happened within ``timeout`` seconds, False otherwise.
        """
        deadline = time.monotonic() + timeout
        return all(
            consumer.wait_idle(max(0.0, deadline - time.monotonic()))
            for consumer in self._consumers
        )

    def _start(self) -> None:
        app = self.app = load_app(self.app_module)
        config = HostConfig.from_folder(app.folder)
        invoker = Invoker(app.folder)
        self.keys = KeyRing(app.functions, self._function_keys, self._master_key)
        self.function_errors = {}
        runners: list[TimerRunner] = []
        for entry in app.with_trigger(TIMER_TRIGGER):
            try:
                runners.append(TimerRunner(entry, invoker))
            except (UnresolvedSetting, ScheduleError) as exc:
                self._in_error(entry, exc)
        timers = self._timers = Timers(runners)
        for entry in app.with_trigger(SERVICEBUS_TRIGGER):
            try:
                self._consumers.append(_consumer(
                    entry, invoker, config, self._poll_seconds, self._servicebus_ca_bundle
                ))
            except UnresolvedSetting as exc:
                self._in_error(entry, exc)
        http = FunctionsHttp(
            app, invoker, self.keys, timers, config.route_prefix, self.function_errors
        )
        self._server = ServerThread(http, self._host, self._port, name="functions-host-http")
        self.base_url = f"http://{self._host}:{self._server.port}"
        self._server.start()
        timers.start()
        for consumer in self._consumers:
            consumer.start()
        log.info(
            "Functions host for %s listening on %s (%d functions)",
            self.app_module, self.base_url, len(app.functions),
        )

    def _in_error(self, entry: FunctionEntry, error: Exception) -> None:
        message = f"Error indexing method 'Functions.{entry.name}': {error}"
        self.function_errors[entry.name] = message
        log.error("The 'Functions.%s' function is in error: %s", entry.name, message)


def _consumer(
    entry: FunctionEntry,
    invoker: Invoker,
    config: HostConfig,
    poll_seconds: float,
    ca_bundle: str | None,
) -> QueueConsumer:
    binding = entry.binding
    if "topicName" in binding or not binding.get("queueName"):
        raise HostError(f"function '{entry.name}': only queue triggers are supported")
    auto_complete = binding.get("autoCompleteMessages")
    unsupported = [
        option for option, wrong in (
            ("isSessionsEnabled", binding.get("isSessionsEnabled") is True),
            ("autoCompleteMessages false", (
                config.auto_complete_messages if auto_complete is None else auto_complete
            ) is False),
        )
        if wrong
    ]
    if unsupported:
        raise HostError(f"function '{entry.name}': {unsupported} not supported by the local host")
    setting = str(binding.get("connection") or DEFAULT_SERVICEBUS_CONNECTION)
    connection_string = app_configuration().get(setting.lower())
    if not connection_string:
        raise UnresolvedSetting(
            f"Service Bus account connection string with name '{setting}' does not exist "
            "in the settings"
        )
    queue = resolve_setting_expression(str(binding["queueName"]))
    client = QueueClient(ConnectionInfo.parse(connection_string), queue, ca_bundle=ca_bundle)
    if str(binding.get("cardinality") or "one").lower() == "many":
        # Extension 5.x runs one batch at a time per listener; maxConcurrentCalls is for
        # single dispatch only.
        return QueueConsumer(
            entry, invoker, client, 1, poll_seconds, batch_size=config.max_message_batch_size
        )
    return QueueConsumer(entry, invoker, client, config.max_concurrent_calls, poll_seconds)
