"""The small pure pieces of the sync jobs: templates, tombstones, graduation, SAS tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, unquote_plus

import pytest

from plugins.core.schema_map import ContactMap
from plugins.registration.model import Category
from plugins.registries.models import Degree, StudyFacts
from plugins.servicebus.sender import sas_token
from plugins.sync.graduation import alumnus_categories, awarded_degree
from plugins.sync.repository import MappedTable, chunks, date_of, datetime_of
from plugins.sync.templates import contact_fields, render
from plugins.sync.tombstone import identity_hash

# ------------------------------------------------------------------ templates


def test_data_fields_are_filled_from_the_contact_or_their_default() -> None:
    text = "Dear {!contact:firstname;member} {!contact:lastname;}, {!account:name;friend}"
    assert render(text, {"firstname": "Åsa", "lastname": ""}, escape=False) == (
        "Dear Åsa , friend"
    )


def test_values_are_escaped_in_a_body_only() -> None:
    contact = {"firstname": "<b>Bo</b>"}
    assert render("{!contact:firstname;}", contact, escape=True) == "&lt;b&gt;Bo&lt;/b&gt;"
    assert render("{!contact:firstname;}", contact, escape=False) == "<b>Bo</b>"


def test_contact_fields_used_by_templates() -> None:
    assert contact_fields("{!contact:firstname;} {!account:name;}", "{!contact:lastname;x}") == {
        "firstname",
        "lastname",
    }


# ----------------------------------------------------------------- tombstones


def test_identity_hash_is_keyed_and_stable() -> None:
    key = "k" * 32
    first = identity_hash("197010632391", key)
    assert first == identity_hash(" 197010632391 ", key)
    assert len(first) == 64 and "197010632391" not in first
    assert first != identity_hash("197010632391", "other" * 8)
    assert first != hashlib.sha256(b"197010632391").hexdigest()
    with pytest.raises(ValueError):
        identity_hash(" ", key)


# ----------------------------------------------------------------- graduation


def test_a_degree_awarded_by_the_day_of_the_run_counts() -> None:
    today = date(2025, 6, 23)
    future = Degree(title="Master", awarded_on=date(2025, 6, 30))
    done = Degree(title="Bachelor", awarded_on=date(2024, 6, 1))
    undated = Degree(title="Certificate")
    assert awarded_degree(StudyFacts(degrees=(future, done)), today) == done
    assert awarded_degree(StudyFacts(degrees=(future,)), today) is None
    assert awarded_degree(StudyFacts(degrees=(undated,)), today) == undated
    assert awarded_degree(None, today) is None


def test_alumnus_is_added_to_the_categories_once() -> None:
    columns = ContactMap()
    student = str(columns.category_values[Category.STUDENT])
    both = alumnus_categories(student, columns)
    assert both is not None
    assert columns.categories_of(both) == {Category.STUDENT, Category.ALUMNUS}
    assert alumnus_categories(both, columns) is None
    assert alumnus_categories(None, columns) == str(columns.category_values[Category.ALUMNUS])


# ---------------------------------------------------------------- Web API values


def test_web_api_values() -> None:
    assert date_of("2025-06-30") == date(2025, 6, 30)
    assert date_of("2025-06-30T00:00:00Z") == date(2025, 6, 30)
    assert date_of(None) is None
    assert datetime_of("2025-06-30T04:05:06Z") == datetime(2025, 6, 30, 4, 5, 6, tzinfo=UTC)
    assert datetime_of("") is None
    assert [list(c) for c in chunks([1, 2, 3, 4, 5], 2)] == [[1, 2], [3, 4], [5]]
    assert MappedTable.of(ContactMap()) == MappedTable("contact", "contacts", "contactid")


# ------------------------------------------------------------------ SAS tokens


def test_sas_token_signs_the_encoded_uri_and_expiry() -> None:
    uri = "https://ns.servicebus.windows.net/member-lifecycle"
    token = sas_token(uri, "send", "secret", 1_750_000_000)
    scheme, _, fields = token.partition(" ")
    assert scheme == "SharedAccessSignature"
    parts = {k: v[0] for k, v in parse_qs(fields).items()}
    assert parts["skn"] == "send" and parts["se"] == "1750000000"
    assert unquote_plus(fields.split("sr=")[1].split("&")[0]) == uri
    expected = hmac.new(
        b"secret", f"{fields.split('sr=')[1].split('&')[0]}\n1750000000".encode(), hashlib.sha256
    ).digest()
    assert base64.b64decode(parts["sig"]) == expected
