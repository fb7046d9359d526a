"""The sandbox's Service Bus namespace over HTTP, as the local functions host uses it."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import requests

from sandbox.app import Sandbox

CLAIM = "http://schemas.microsoft.com/xrm/2011/Claims/EntityLogicalName"


def url(sandbox: Sandbox, path: str) -> str:
    return f"{sandbox.base_url}/servicebus/{path}"


def send(sandbox: Sandbox, queue: str, body: bytes, **headers: str) -> requests.Response:
    return requests.post(url(sandbox, f"{queue}/messages"), data=body, headers=headers, timeout=10)


def receive(sandbox: Sandbox, queue: str, timeout: float = 0) -> requests.Response:
    return requests.post(url(sandbox, f"{queue}/messages/head?timeout={timeout}"), timeout=30)


def lock_url(sandbox: Sandbox, queue: str, response: requests.Response) -> str:
    broker = json.loads(response.headers["BrokerProperties"])
    return url(sandbox, f"{queue}/messages/{broker['SequenceNumber']}/{broker['LockToken']}")


def test_send_then_peek_lock_returns_body_and_properties(sandbox: Sandbox) -> None:
    sent = send(
        sandbox,
        "contacts",
        b'{"a":1}',
        **{
            "Content-Type": "application/json",
            "BrokerProperties": json.dumps({"MessageId": "m-1", "CorrelationId": "c-1",
                                            "Label": "Update"}),
            "X-Application-Properties": json.dumps({CLAIM: "contact"}),
        },
    )
    assert sent.status_code == 201

    got = receive(sandbox, "contacts")
    assert got.status_code == 201
    assert got.content == b'{"a":1}'
    assert got.headers["Content-Type"] == "application/json"
    broker = json.loads(got.headers["BrokerProperties"])
    assert broker["MessageId"] == "m-1"
    assert broker["CorrelationId"] == "c-1"
    assert broker["Label"] == "Update"
    assert broker["DeliveryCount"] == 1
    assert broker["SequenceNumber"] == 1
    assert broker["LockToken"]
    locked_until = parsedate_to_datetime(broker["LockedUntilUtc"])
    enqueued = parsedate_to_datetime(broker["EnqueuedTimeUtc"])
    assert 29 <= (locked_until - enqueued).total_seconds() <= 31
    assert json.loads(got.headers["X-Application-Properties"]) == {CLAIM: "contact"}
    assert got.headers["Location"] == lock_url(sandbox, "contacts", got)


def test_empty_queue_answers_204_after_the_long_poll(sandbox: Sandbox) -> None:
    started = time.perf_counter()
    got = receive(sandbox, "empty", timeout=0.4)
    assert got.status_code == 204
    assert time.perf_counter() - started >= 0.35


def test_long_poll_returns_as_soon_as_a_message_arrives(sandbox: Sandbox) -> None:
    sandbox.servicebus.queue("later")
    started = time.perf_counter()

    def send_soon() -> None:
        time.sleep(0.2)
        sandbox.servicebus.send("later", b"now")

    thread = threading.Thread(target=send_soon)
    thread.start()
    got = receive(sandbox, "later", timeout=10)
    thread.join()
    assert got.status_code == 201 and got.content == b"now"
    assert time.perf_counter() - started < 5


def test_complete_removes_and_a_second_complete_is_gone(sandbox: Sandbox) -> None:
    send(sandbox, "q", b"x")
    got = receive(sandbox, "q")
    assert requests.delete(lock_url(sandbox, "q", got), timeout=10).status_code == 200
    assert sandbox.servicebus.active_count("q") == 0
    again = requests.delete(lock_url(sandbox, "q", got), timeout=10)
    assert again.status_code == 410
    assert "<Error><Code>410</Code>" in again.text


def test_abandon_redelivers_then_dead_letters_at_max_delivery_count(sandbox: Sandbox) -> None:
    sandbox.servicebus.set_max_delivery_count("poison", 2)
    send(sandbox, "poison", b"bad")
    first = receive(sandbox, "poison")
    assert requests.put(lock_url(sandbox, "poison", first), timeout=10).status_code == 200
    second = receive(sandbox, "poison")
    assert json.loads(second.headers["BrokerProperties"])["DeliveryCount"] == 2
    assert requests.put(lock_url(sandbox, "poison", second), timeout=10).status_code == 200

    assert receive(sandbox, "poison").status_code == 204
    listed = requests.get(url(sandbox, "poison/$deadletterqueue/messages"), timeout=10).json()
    assert [(d["body"], d["deadLetterReason"], d["deliveryCount"]) for d in listed] == [
        ("bad", "MaxDeliveryCountExceeded", 2)
    ]


def test_expired_lock_is_lost_and_the_message_comes_back(sandbox: Sandbox) -> None:
    sandbox.servicebus.set_lock_duration("short", 0.2)
    send(sandbox, "short", b"x")
    first = receive(sandbox, "short")
    time.sleep(0.3)
    assert requests.delete(lock_url(sandbox, "short", first), timeout=10).status_code == 410
    again = receive(sandbox, "short")
    assert json.loads(again.headers["BrokerProperties"])["DeliveryCount"] == 2


def test_explicit_dead_letter_and_receive_from_the_dead_letter_queue(sandbox: Sandbox) -> None:
    send(sandbox, "orders", b"{}", **{"X-Application-Properties": json.dumps({"k": "v"})})
    got = receive(sandbox, "orders")
    dead = requests.post(
        lock_url(sandbox, "orders", got) + "/deadletter",
        json={"reason": "InvalidPayload", "description": "missing Target"},
        timeout=10,
    )
    assert dead.status_code == 200
    [listed] = sandbox.servicebus.dead_letters("orders")
    assert listed.dead_letter_reason == "InvalidPayload"

    from_dlq = requests.post(url(sandbox, "orders/$deadletterqueue/messages/head"), timeout=10)
    assert from_dlq.status_code == 201
    properties = json.loads(from_dlq.headers["X-Application-Properties"])
    assert properties == {
        "k": "v",
        "DeadLetterReason": "InvalidPayload",
        "DeadLetterErrorDescription": "missing Target",
    }
    broker = json.loads(from_dlq.headers["BrokerProperties"])
    done = requests.delete(
        url(sandbox, f"orders/$deadletterqueue/messages/{broker['SequenceNumber']}/"
                     f"{broker['LockToken']}"),
        timeout=10,
    )
    assert done.status_code == 200
    assert sandbox.servicebus.dead_letters("orders") == []


def test_namespace_listing_counts_active_and_dead_letters(sandbox: Sandbox) -> None:
    sandbox.servicebus.send("a", b"1")
    sandbox.servicebus.send("a", b"2")
    sandbox.servicebus.send("b", b"3")
    message = sandbox.servicebus.receive("b")
    assert message is not None and message.lock_token
    sandbox.servicebus.queue("b").dead_letter(message.sequence_number, message.lock_token, "r")

    listing = requests.get(url(sandbox, ""), timeout=10).json()
    counts = {q["name"]: (q["activeMessageCount"], q["deadLetterMessageCount"]) for q in listing}
    assert counts == {"a": (2, 0), "b": (0, 1)}


def test_bad_requests_get_azure_style_errors(sandbox: Sandbox) -> None:
    bad_header = send(sandbox, "q", b"x", BrokerProperties="{not json")
    assert bad_header.status_code == 400
    assert "<Error><Code>400</Code>" in bad_header.text
    assert receive(sandbox, "q", timeout=-1).status_code == 400
    assert requests.get(url(sandbox, "q/messages/head"), timeout=10).status_code == 405
    assert requests.delete(url(sandbox, "q/messages/abc/token"), timeout=10).status_code == 400
    assert requests.post(url(sandbox, "bad%20name/messages"), timeout=10).status_code == 400
    assert requests.get(url(sandbox, "q/other"), timeout=10).status_code == 404


def test_a_scheduled_message_is_held_back_until_its_time(sandbox: Sandbox) -> None:
    namespace = sandbox.servicebus
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    sent = send(
        sandbox, "scheduled", b"later",
        BrokerProperties=json.dumps({"MessageId": "m1", "ScheduledEnqueueTimeUtc": later}),
        **{"MP-Delivery-Count": "3", "Note": '"text"'},
    )

    assert sent.status_code == 201
    assert receive(sandbox, "scheduled").status_code == 204
    assert namespace.queue("scheduled").scheduled_count() == 1
    assert namespace.active_count("scheduled") == 0
    namespace.advance_clock(61)
    due = receive(sandbox, "scheduled")
    assert due.status_code == 201 and due.content == b"later"
    broker = json.loads(due.headers["BrokerProperties"])
    assert parsedate_to_datetime(broker["ScheduledEnqueueTimeUtc"]) == parsedate_to_datetime(later)
    carried = json.loads(due.headers["X-Application-Properties"])
    properties = {name.lower(): value for name, value in carried.items()}
    assert properties == {"mp-delivery-count": 3, "note": "text"}


def test_a_schedule_that_is_not_a_date_is_refused(sandbox: Sandbox) -> None:
    sent = send(sandbox, "scheduled-bad", b"x",
                BrokerProperties=json.dumps({"ScheduledEnqueueTimeUtc": "tomorrow"}))
    assert sent.status_code == 400
