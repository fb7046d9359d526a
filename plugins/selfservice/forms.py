"""The pages' forms: reading what was typed, checking every field, keeping it for re-display.

Every field is checked before anything is written; each problem is a text key (see
:mod:`.i18n`) for the field it belongs to. What the person typed is kept as typed, so a form
with problems comes back filled in. Identity numbers and e-mail addresses are checked with
:mod:`plugins.identity`. Pure: no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Generic, TypeVar

from plugins.identity import InvalidReason, is_valid_email, parse_national_id

# The registration table's column lengths (plugins/core/schema/tables.json).
NAME_MAX = 50
EMAIL_MAX = 100
PHONE_MAX = 50
NATIONAL_ID_MAX = 20
HONEYPOT = "website"
TEXT_FIELDS = ("first_name", "last_name", "email", "national_id", "phone")
CHECKED = "yes"

# Phones and word processors turn the apostrophe of "O'Brien" into U+2019.
_NAME_PUNCTUATION = frozenset(" -'.\u2019")
_PHONE = re.compile(r"^\+?[0-9 ().-]+$")
_PHONE_DIGITS = (6, 15)
# The most telling reason first: it names what is wrong with the number the person meant.
_ID_REASONS = {
    InvalidReason.BAD_CHECKSUM: "error_national_id_checksum",
    InvalidReason.IMPOSSIBLE_DATE: "error_national_id_date",
    InvalidReason.INVALID_SERIAL: "error_national_id",
    InvalidReason.WRONG_LENGTH: "error_national_id_length",
}

T = TypeVar("T")


@dataclass(frozen=True)
class Problem:
    """What is wrong with a field: a text key and the values its placeholders need."""

    key: str
    max: int | None = None


@dataclass(frozen=True)
class Typed:
    """What the person typed and ticked, kept to fill the form in again."""

    text: Mapping[str, str] = field(default_factory=dict)
    ticked: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def value(self, name: str) -> str:
        """The text typed into ``name`` ("" when none)."""
        return self.text.get(name, "")

    def is_ticked(self, name: str, value: str = CHECKED) -> bool:
        """Whether the checkbox ``name`` with ``value`` was ticked."""
        return value in self.ticked.get(name, frozenset())


@dataclass(frozen=True)
class Checked(Generic[T]):
    """A form, checked: the typed values, the problems by field, and the result when valid."""

    typed: Typed
    problems: Mapping[str, Problem]
    result: T | None

    @property
    def valid(self) -> bool:
        """True when no field has a problem (then ``result`` is set)."""
        return not self.problems and self.result is not None


@dataclass(frozen=True)
class Rules:
    """What the organisation accepts."""

    topics: tuple[str, ...]
    channels: tuple[str, ...]
    countries: tuple[str, ...] = ("SE", "NO")
    national_id_required: bool = False
    today: date | None = None


@dataclass(frozen=True)
class Profile:
    """A valid registration or update: who the person is and the relationship they want."""

    first_name: str
    last_name: str
    email: str
    national_id: str | None
    phone: str | None
    topics: frozenset[str]
    channels: frozenset[str]
    self_declared: bool
    consent: bool


FormData = Mapping[str, Sequence[str]]
"""A submitted form: each field name with the values sent for it."""


def typed_from(form: FormData) -> Typed:
    """Keep what was typed into the known text fields and every ticked checkbox group."""
    text = {name: _first(form, name) for name in TEXT_FIELDS if name in form}
    groups = ("topics", "channels", "self_declared", "consent", "terminate")
    ticked = {name: frozenset(form.get(name, ())) for name in groups if name in form}
    return Typed(text, ticked)


def honeypot_filled(form: FormData) -> bool:
    """Whether the field people cannot see (and robots fill in) has a value."""
    return bool(_first(form, HONEYPOT).strip())


def check_profile(
    form: FormData, rules: Rules, *, national_id_optional: bool = False
) -> Checked[Profile]:
    """Check a registration or update form. ``national_id_optional`` waives the settings'
    requirement (an update keeps the number already on record when left empty)."""
    typed = typed_from(form)
    problems: dict[str, Problem] = {}
    first = _name(typed.value("first_name"), "first_name", problems)
    last = _name(typed.value("last_name"), "last_name", problems)
    email = _email(typed.value("email"), problems)
    required = rules.national_id_required and not national_id_optional
    national_id = _national_id(typed.value("national_id"), rules, required, problems)
    phone = _phone(typed.value("phone"), problems)
    topics = _choices(typed, "topics", rules.topics, problems)
    channels = _choices(typed, "channels", rules.channels, problems)
    consent = typed.is_ticked("consent")
    if not consent:
        problems["consent"] = Problem("error_consent_required")
    if problems:
        return Checked(typed, problems, None)
    profile = Profile(
        first_name=first,
        last_name=last,
        email=email,
        national_id=national_id,
        phone=phone,
        topics=topics,
        channels=channels,
        self_declared=typed.is_ticked("self_declared"),
        consent=consent,
    )
    return Checked(typed, problems, profile)


def check_email_request(form: FormData) -> Checked[str]:
    """Check the form asking for a link: one e-mail address."""
    typed = typed_from(form)
    problems: dict[str, Problem] = {}
    email = _email(typed.value("email"), problems)
    return Checked(typed, problems, None if problems else email)


def check_unregistration(form: FormData) -> Checked[bool]:
    """The unregistration form: whether "terminate membership" was ticked."""
    typed = typed_from(form)
    return Checked(typed, {}, typed.is_ticked("terminate"))


def _first(form: FormData, name: str) -> str:
    values = form.get(name) or ()
    return values[0] if values else ""


def _clean(value: str) -> str:
    return " ".join(unicodedata.normalize("NFC", value).split())


def _name(raw: str, name: str, problems: dict[str, Problem]) -> str:
    value = _clean(raw)
    if not value:
        problems[name] = Problem("error_required")
    elif len(value) > NAME_MAX:
        problems[name] = Problem("error_too_long", NAME_MAX)
    elif not any(c.isalpha() for c in value) or not all(
        c.isalpha() or c in _NAME_PUNCTUATION or unicodedata.category(c) == "Mn" for c in value
    ):
        problems[name] = Problem("error_invalid_name")
    return value


def _email(raw: str, problems: dict[str, Problem]) -> str:
    value = raw.strip()
    if not value:
        problems["email"] = Problem("error_required")
    elif len(value) > EMAIL_MAX:
        problems["email"] = Problem("error_too_long", EMAIL_MAX)
    elif not is_valid_email(value):
        problems["email"] = Problem("error_invalid_email")
    return value


def _national_id(
    raw: str, rules: Rules, required: bool, problems: dict[str, Problem]
) -> str | None:
    value = raw.strip()
    if not value:
        if required:
            problems["national_id"] = Problem("error_required")
        return None
    if len(value) > NATIONAL_ID_MAX + 5:
        problems["national_id"] = Problem("error_national_id_length")
        return None
    reasons = []
    for country in rules.countries:
        result = parse_national_id(value, country, today=rules.today)
        if result.valid:
            return result.canonical
        reasons.append(result.reason)
    known = [r for r in _ID_REASONS if r in reasons]
    problems["national_id"] = Problem(_ID_REASONS[known[0]] if known else "error_national_id")
    return None


def _phone(raw: str, problems: dict[str, Problem]) -> str | None:
    value = raw.strip()
    if not value:
        return None
    digits = re.sub(r"\D", "", value)
    if len(value) > PHONE_MAX:
        problems["phone"] = Problem("error_too_long", PHONE_MAX)
    elif not _PHONE.match(value) or not _PHONE_DIGITS[0] <= len(digits) <= _PHONE_DIGITS[1]:
        problems["phone"] = Problem("error_invalid_phone")
    return ("+" if value.startswith("+") else "") + digits


def _choices(
    typed: Typed, name: str, allowed: tuple[str, ...], problems: dict[str, Problem]
) -> frozenset[str]:
    chosen = typed.ticked.get(name, frozenset())
    if not chosen <= set(allowed):
        problems[name] = Problem("error_invalid_choice")
    return chosen & frozenset(allowed)
