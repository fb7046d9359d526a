"""The degree feed's settings: the feed replaces walking Ladok students, never both."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from plugins.core.settings import SyncSettings


def test_the_feed_and_the_walk_over_ladok_students_are_not_both_on() -> None:
    with pytest.raises(ValidationError, match="replaces walking Ladok students"):
        SyncSettings.model_validate({
            "degree_feed": {"enabled": True},
            "graduates": {"enabled": True, "student_registry": "ladok"},
        })


def test_the_feed_for_ladok_and_the_walk_for_fs_go_together() -> None:
    settings = SyncSettings.model_validate({
        "degree_feed": {"enabled": True, "start_page": 4850},
        "graduates": {"enabled": True, "student_registry": "fs"},
    })
    assert settings.degree_feed.start_page == 4850
