"""A $batch answer split per item: reads, written change sets and failed change sets."""

from __future__ import annotations

import pytest

from plugins.dataverse.batch import BatchPartResult, BatchRequest, results_by_item


def part(index: int, status: int, changeset: int | None) -> BatchPartResult:
    return BatchPartResult(index=index, status=status, reason="", headers={}, body=b"",
                           changeset=changeset)


def batch_of_read_and_three_change_sets() -> BatchRequest:
    batch = BatchRequest()
    batch.get("contacts")
    for _ in range(3):
        changes = batch.changeset()
        changes.create("contacts", {"firstname": "A"})
        changes.create("tasks", {"subject": "B"})
    return batch


def test_a_failed_change_set_is_its_one_failing_response() -> None:
    results = [part(0, 200, None), part(1, 204, 0), part(2, 204, 0), part(3, 412, None),
               part(4, 204, 1), part(5, 204, 1)]
    groups = results_by_item(batch_of_read_and_three_change_sets(), results)
    assert [[p.index for p in group] for group in groups] == [[0], [1, 2], [3], [4, 5]]


def test_items_the_batch_never_got_to_have_no_responses() -> None:
    groups = results_by_item(batch_of_read_and_three_change_sets(),
                             [part(0, 200, None), part(1, 503, None)])
    assert [len(group) for group in groups] == [1, 1, 0, 0]


def test_more_responses_than_items_is_an_error() -> None:
    batch = BatchRequest()
    batch.get("contacts")
    with pytest.raises(ValueError, match="2 responses"):
        results_by_item(batch, [part(0, 200, None), part(1, 200, None)])
