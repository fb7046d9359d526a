"""Dead letters end to end: the unmodified azure-servicebus SDK against the sandbox's AMQP peer.

The peer serves the sandbox's own queues, so a message the local Functions host dead-letters
(over the REST contract) is the one ``member-plugins deadletters`` lists and replays (over
AMQP), and the host then consumes the replayed copy. Every SDK call in the product runs
under an outer deadline; here every direct SDK call is bounded too, so no test can hang.
"""

from __future__ import annotations

import datetime
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.servicebus import (
    ServiceBusClient,
    ServiceBusMessage,
    ServiceBusReceiveMode,
)
from azure.servicebus.exceptions import ServiceBusError

from plugins.admin.deadletters import REPLAY_COUNT, DeadLetterQueue, bounded
from plugins.cli import main
from sandbox.amqp import AmqpPeer
from sandbox.app import Sandbox
from sandbox.host import LocalHost
from sandbox.product_settings import servicebus_connection_string

QUEUE = "mp-registration-events"
SDK_DEADLINE = 20.0
# Dataverse names its message properties by claim URI (reference §2.4).
CLAIM = "http://schemas.microsoft.com/xrm/2011/Claims/Organization"
APP_SOURCE = '''
import json
import os

import azure.functions as func

app = func.FunctionApp()


@app.service_bus_queue_trigger(arg_name="msg", queue_name="mp-registration-events",
                               connection="ServiceBusConnection")
def consume(msg: func.ServiceBusMessage) -> None:
    if os.path.exists(os.environ["DEMO_BROKEN_FLAG"]):
        raise RuntimeError("the handler has a bug")
    with open(os.environ["DEMO_DONE_FILE"], "a", encoding="utf-8") as done:
        replays = msg.application_properties.get("mp-replay-count")
        done.write(json.dumps({"id": msg.message_id, "replays": replays}) + "\\n")
'''


@pytest.fixture
def peer(sandbox: Sandbox) -> Iterator[AmqpPeer]:
    running = AmqpPeer(sandbox.servicebus).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def sdk(peer: AmqpPeer) -> Iterator[ServiceBusClient]:
    client = ServiceBusClient.from_connection_string(peer.connection_string, retry_total=0)
    try:
        yield client
    finally:
        sdk_call(client.close)


def sdk_call(call: Callable[[], Any]) -> Any:
    """A direct SDK call under the same kind of deadline the product uses."""
    return bounded(call, SDK_DEADLINE, "a test's SDK call")


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["deadletters", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def dead_letter_directly(sandbox: Sandbox, body: bytes, **properties: Any) -> int:
    """Put a message on the queue and dead-letter it with the namespace's own API."""
    namespace = sandbox.servicebus
    sent = namespace.send(QUEUE, body, content_type="application/json", **properties)
    received = namespace.receive(QUEUE)
    assert received is not None and received.lock_token is not None
    namespace.queue(QUEUE).dead_letter(
        received.sequence_number, received.lock_token, "HandlerFailed", "the handler has a bug"
    )
    return sent.sequence_number


def eventually(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


# ------------------------------------------------------------------------ end to end


def test_host_dead_letters_then_the_cli_lists_shows_and_replays_after_the_fix(
    sandbox: Sandbox, peer: AmqpPeer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app_file = tmp_path / "deadletter_app.py"
    app_file.write_text(APP_SOURCE, encoding="utf-8")
    broken, done = tmp_path / "broken", tmp_path / "done.jsonl"
    broken.touch()
    rest = servicebus_connection_string(sandbox)
    sandbox.servicebus.set_max_delivery_count(QUEUE, 2)
    host = LocalHost(
        str(app_file),
        settings={"ServiceBusConnection": rest, "DEMO_BROKEN_FLAG": str(broken),
                  "DEMO_DONE_FILE": str(done)},
        servicebus_poll_seconds=0.05,
    ).start()
    try:
        body = json.dumps({"MessageName": "Create", "email": "anna.alumn@example.com",
                           "nationalid": "19900101-1234"}).encode()
        sandbox.servicebus.send(QUEUE, body, message_id="evt-1", content_type="application/json",
                                application_properties={CLAIM: "contoso"})
        [dead] = eventually(lambda: sandbox.servicebus.dead_letters(QUEUE))
        assert dead.dead_letter_reason == "MaxDeliveryCountExceeded"
        target = ("--connection-string", peer.connection_string, "--queue", QUEUE)

        code, out, err = cli(capsys, "list", *target)
        assert (code, err) == (0, "")
        assert f"dead letters of {QUEUE}: 1" in out
        assert f"{dead.sequence_number}" in out and "MaxDeliveryCountExceeded" in out

        code, out, _ = cli(capsys, "show", str(dead.sequence_number), *target)
        assert code == 0
        assert "message id:           evt-1" in out and f"{CLAIM} = \"contoso\"" in out
        assert "anna.alumn@example.com" not in out and "19900101-1234" not in out
        assert '"MessageName": "Create"' in out

        broken.unlink()
        code, out, err = cli(capsys, "replay", str(dead.sequence_number), *target)
        assert (code, err) == (0, "")
        assert f"replayed to {QUEUE}: 1 ({dead.sequence_number})" in out
        eventually(lambda: done.exists() and done.read_text(encoding="utf-8"))
        assert [json.loads(line) for line in done.read_text(encoding="utf-8").splitlines()] == [
            {"id": "evt-1", "replays": 1}
        ]
        assert sandbox.servicebus.dead_letters(QUEUE) == []
        assert eventually(lambda: sandbox.servicebus.active_count(QUEUE) == 0)
    finally:
        host.stop()


def test_replay_chosen_then_all_keeps_what_matters_and_strips_the_dead_letter_stamp(
    sandbox: Sandbox, peer: AmqpPeer, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    numbers = [
        dead_letter_directly(sandbox, b'{"n": %d}' % n, message_id=f"evt-{n}",
                             correlation_id=f"corr-{n}", subject="Create",
                             application_properties={CLAIM: "contoso", "depth": 1})
        for n in range(3)
    ]
    with DeadLetterQueue(peer.connection_string, QUEUE, timeout_seconds=SDK_DEADLINE) as dlq:
        result = dlq.replay([numbers[1], 999])
    assert result.replayed == (numbers[1],) and result.missing == (999,)
    assert [m.message_id for m in sandbox.servicebus.dead_letters(QUEUE)] == ["evt-0", "evt-2"]

    monkeypatch.setenv("ServiceBusConnection", peer.connection_string)
    monkeypatch.setenv("REGISTRATION_QUEUE", QUEUE)
    code, out, err = cli(capsys, "replay", "--all")
    assert (code, err) == (0, "") and "replayed to mp-registration-events: 2" in out
    copies = sandbox.servicebus.queue(QUEUE).peek_all()
    assert [(c.message_id, c.correlation_id, c.label, c.content_type, c.body) for c in copies] == [
        ("evt-1", "corr-1", "Create", "application/json", b'{"n": 1}'),
        ("evt-0", "corr-0", "Create", "application/json", b'{"n": 0}'),
        ("evt-2", "corr-2", "Create", "application/json", b'{"n": 2}'),
    ]
    assert copies[0].application_properties == {CLAIM: "contoso", "depth": 1, REPLAY_COUNT: 1}
    assert sandbox.servicebus.dead_letters(QUEUE) == []


def test_unknown_dead_letters_and_missing_settings_are_one_line_errors(
    peer: AmqpPeer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ServiceBusConnection", raising=False)
    code, out, err = cli(capsys, "list", "--queue", QUEUE)
    assert code == 2 and out == ""
    assert err.startswith("error: no Service Bus connection string") and err.count("\n") == 1

    target = ("--connection-string", peer.connection_string, "--queue", QUEUE)
    code, out, err = cli(capsys, "list", *target)
    assert code == 0 and out.splitlines() == ["dead letters of mp-registration-events: 0"]
    code, _, err = cli(capsys, "show", "42", *target)
    assert code == 2 and err.startswith("error: no dead letter 42") and err.count("\n") == 1
    code, out, err = cli(capsys, "replay", "42", *target)
    assert code == 2 and "replayed to mp-registration-events: 0 (none)" in out
    assert err.startswith("error: not in the dead-letter queue") and err.count("\n") == 1

    code, _, err = cli(capsys, "list", "--connection-string", "Endpoint=nonsense")
    assert code == 1 and err.startswith("error: the Service Bus connection string is not usable")


def test_a_peer_that_never_answers_fails_within_the_timeout(
    capsys: pytest.CaptureFixture[str],
) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def hold() -> None:
        silent.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(silent.accept()[0])
            except TimeoutError:
                continue

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    try:
        port = silent.getsockname()[1]
        connection = (f"Endpoint=sb://127.0.0.1:{port};SharedAccessKeyName=x;"
                      "SharedAccessKey=y;UseDevelopmentEmulator=true")
        started = time.monotonic()
        code, _, err = cli(capsys, "list", "--connection-string", connection,
                           "--queue", QUEUE, "--timeout", "1")
        assert code == 1 and time.monotonic() - started < 5
        assert "did not answer within 1 s" in err and err.count("\n") == 1
    finally:
        stop.set()
        holder.join(2)
        for conn in accepted:
            conn.close()
        silent.close()


# ------------------------------------------------------------------ the AMQP peer


def test_sdk_sends_single_and_batched_messages_and_receives_with_broker_state(
    sandbox: Sandbox, sdk: ServiceBusClient
) -> None:
    sender = sdk.get_queue_sender("orders")
    sdk_call(sender.__enter__)
    sdk_call(lambda: sender.send_messages(ServiceBusMessage(
        b'{"a": 1}', message_id="m-1", correlation_id="c-1", subject="subj",
        content_type="application/json", application_properties={"tenant": "t1", "n": 7})))
    sdk_call(lambda: sender.send_messages([ServiceBusMessage(b"b1"), ServiceBusMessage(b"b2")]))
    sdk_call(sender.close)
    assert [m.body for m in sandbox.servicebus.queue("orders").peek_all()] == [
        b'{"a": 1}', b"b1", b"b2"
    ]
    receiver = sdk.get_queue_receiver("orders", max_wait_time=2)
    sdk_call(receiver.__enter__)
    try:
        first, *_ = sdk_call(lambda: receiver.receive_messages(3, max_wait_time=2))
        assert (first.message_id, first.correlation_id, first.subject, first.content_type) == (
            "m-1", "c-1", "subj", "application/json")
        assert first.application_properties == {b"tenant": b"t1", b"n": 7}
        assert first.sequence_number == 1 and first.delivery_count in (0, None)
        assert first.locked_until_utc > datetime.datetime.now(datetime.UTC)
        stored = sandbox.servicebus.queue("orders")._locked[1]
        assert str(first.lock_token) == stored.lock_token
    finally:
        sdk_call(receiver.close)


def test_settlement_complete_abandon_dead_letter_and_receive_and_delete(
    sandbox: Sandbox, sdk: ServiceBusClient
) -> None:
    for n in range(4):
        sandbox.servicebus.send("orders", f"m{n}".encode(), message_id=f"m{n}")
    receiver = sdk.get_queue_receiver("orders", max_wait_time=2)
    sdk_call(receiver.__enter__)
    try:
        m0, m1, m2 = sdk_call(lambda: receiver.receive_messages(3, max_wait_time=2))
        sdk_call(lambda: receiver.complete_message(m0))
        sdk_call(lambda: receiver.abandon_message(m1))
        sdk_call(lambda: receiver.dead_letter_message(
            m2, reason="Poison", error_description="cannot parse"))
        again = sdk_call(lambda: receiver.receive_messages(1, max_wait_time=2))
        assert [(m.message_id, m.delivery_count) for m in again] == [("m1", 1)]
        sdk_call(lambda: receiver.complete_message(again[0]))
    finally:
        sdk_call(receiver.close)
    [dead] = sandbox.servicebus.dead_letters("orders")
    assert (dead.message_id, dead.dead_letter_reason, dead.dead_letter_description) == (
        "m2", "Poison", "cannot parse")

    deleting = sdk.get_queue_receiver(
        "orders", receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE, max_wait_time=2)
    sdk_call(deleting.__enter__)
    try:
        taken = sdk_call(lambda: deleting.receive_messages(5, max_wait_time=2))
    finally:
        sdk_call(deleting.close)
    assert [m.message_id for m in taken] == ["m3"]
    assert sandbox.servicebus.active_count("orders") == 0


def test_what_the_peer_does_not_serve_fails_at_once(
    sandbox: Sandbox, sdk: ServiceBusClient
) -> None:
    sandbox.servicebus.send("orders", b"x", message_id="x")

    def fails_fast(call: Callable[[], Any], expected: str) -> None:
        started = time.monotonic()
        with pytest.raises(ServiceBusError, match=expected):
            sdk_call(call)
        assert time.monotonic() - started < 5

    sender = sdk.get_queue_sender("orders")
    sdk_call(sender.__enter__)
    try:
        fails_fast(lambda: sender.schedule_messages(
            ServiceBusMessage(b"s"), datetime.datetime.now(datetime.UTC)), "not supported")
    finally:
        sdk_call(sender.close)

    def session_receive() -> Any:
        with sdk.get_queue_receiver("orders", session_id="s-1", max_wait_time=2) as receiver:
            return receiver.receive_messages(1, max_wait_time=2)

    fails_fast(session_receive, "sessions are not supported")

    receiver = sdk.get_queue_receiver("orders", max_wait_time=2)
    sdk_call(receiver.__enter__)
    try:
        [message] = sdk_call(lambda: receiver.receive_messages(1, max_wait_time=2))
        fails_fast(lambda: receiver.defer_message(message), "deferral is not supported")
    finally:
        sdk_call(receiver.close)
