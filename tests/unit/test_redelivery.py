"""When a queued event is tried again, and how many deliveries it has had."""

from __future__ import annotations

from plugins.registration.redelivery import Delivery, retry_delay


def delivery(properties: dict[object, object], count: int) -> Delivery:
    return Delivery(body=b"{}", content_type="application/json", message_id="m",
                    correlation_id=None, application_properties=properties,
                    delivery_count=count)


def test_a_throttled_event_waits_for_dataverse_and_a_little_more() -> None:
    assert retry_delay(300, deliveries=9) == 301


def test_other_failures_wait_5_seconds_doubling_up_to_10_minutes() -> None:
    assert [retry_delay(None, n) for n in (1, 2, 3, 8, 20)] == [5, 10, 20, 600, 600]


def test_deliveries_count_the_earlier_messages_whatever_the_property_case() -> None:
    assert delivery({}, 1).deliveries == 1
    assert delivery({"Mp-Delivery-Count": 3}, 1).deliveries == 4
    assert delivery({b"mp-delivery-count": b"3"}, 2).deliveries == 5
    assert delivery({"MP-Delivery-Count": "junk"}, 1).deliveries == 1
