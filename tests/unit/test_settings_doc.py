"""docs/settings.md is the code's: a setting cannot be added undocumented or half-described."""

from __future__ import annotations

import re
from pathlib import Path

from plugins.core.settings_doc import SettingRow, markdown_table, setting_rows

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_DOC = ROOT / "docs" / "settings.md"


def _templated(row: SettingRow) -> bool:
    """A description that says nothing a reader could not guess from the name."""
    leaf = row.env.rsplit("__", 1)[-1].lower().replace("_", " ")
    text = row.description.lower().strip(" .")
    words = re.findall(r"[\w-]+", text)
    echoes_name = text in {leaf, f"the {leaf}"} or text.endswith(f": the {leaf}")
    return len(words) < 3 or echoes_name


def test_docs_show_the_generated_settings_table() -> None:
    assert markdown_table() in SETTINGS_DOC.read_text(encoding="utf-8"), (
        "docs/settings.md is out of date: run `make settings-doc`"
    )


def test_every_setting_has_a_human_description() -> None:
    rows = list(setting_rows())
    assert [row.env for row in rows if not row.description] == []
    assert [row.env for row in rows if _templated(row)] == []


def test_templated_descriptions_are_caught() -> None:
    assert _templated(SettingRow("SCHEMA_MAP__TASK__SUBJECT", "subject", "The task: the subject"))
    assert _templated(SettingRow("SCHEMA_MAP__TASK__DUE", "scheduledend", "due"))
    assert not _templated(SettingRow("SCHEMA_MAP__TASK__DUE", "x", "due date of the review task"))


def test_the_readme_links_the_settings_guide() -> None:
    assert "docs/settings.md" in (ROOT / "README.md").read_text(encoding="utf-8")
