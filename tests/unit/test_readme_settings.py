"""The README's settings table is the code's: a setting cannot be added undocumented."""

from __future__ import annotations

from pathlib import Path

from plugins.core.settings_doc import markdown_table, setting_rows

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_shows_the_generated_settings_table() -> None:
    assert markdown_table() in README.read_text(encoding="utf-8"), (
        "README.md's settings table is out of date: paste `member-plugins settings` into it"
    )


def test_every_setting_is_described() -> None:
    assert [row.env for row in setting_rows() if not row.description] == []
