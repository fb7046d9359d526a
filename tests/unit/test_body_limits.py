"""The body size check every HTTP trigger makes before parsing (pure)."""

from __future__ import annotations

import pytest

from plugins.core.body_limits import body_too_large


@pytest.mark.parametrize(
    ("headers", "length", "too_large"),
    [
        ({}, 100, False),
        ({}, 101, True),
        ({"Content-Length": "100"}, 100, False),
        ({"content-length": "101"}, 0, True),
        ({"Content-Length": "9" * 5_000}, 0, True),
        ({"Content-Length": "not a number"}, 100, False),
        ({"Content-Length": "-5"}, 101, True),
    ],
)
def test_the_declared_or_actual_length_over_the_limit_is_too_large(
    headers: dict[str, str], length: int, too_large: bool
) -> None:
    assert body_too_large(headers, length, 100) is too_large
