"""infra/main.bicep: names Azure accepts whatever ``baseName`` the deployer chooses."""

from __future__ import annotations

import re
from pathlib import Path

BICEP = (Path(__file__).resolve().parents[2] / "infra" / "main.bicep").read_text("utf-8")


def variable(name: str) -> str:
    match = re.search(rf"^var {name} = (.+)$", BICEP, re.MULTILINE)
    assert match is not None, name
    return match.group(1)


def test_the_package_container_name_is_lower_case() -> None:
    # Blob container names allow only lower-case letters, digits and hyphens.
    assert variable("deploymentContainer").startswith("toLower(")


def test_the_storage_account_name_is_lower_case() -> None:
    assert re.search(r"storage: toLower\(", BICEP)
