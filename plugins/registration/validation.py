"""Checking a registration before it is matched (pure).

A registration needs a first name, a last name and a valid e-mail address; an
unregistration needs a valid e-mail address or identity number to find the person by. An
identity number, when given (or when the institution requires one), must be a valid number
of the configured country. Each problem is a short sentence without the offending value, so
it can be written to the registration's explanation and logged.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict

from plugins.identity import Country, is_valid_email, normalise_email, parse_national_id

from .model import Kind, Registration


class Checked(BaseModel):
    """The problems found, and the match keys of the values that are valid."""

    model_config = ConfigDict(frozen=True)

    problems: tuple[str, ...] = ()
    national_id: str | None = None
    email: str | None = None


def check_registration(
    registration: Registration, country: Country, *, national_id_required: bool, today: date
) -> Checked:
    """The problems of ``registration`` and its canonical identity number and e-mail key."""
    problems: list[str] = []
    if registration.kind is Kind.REGISTRATION:
        problems += [
            f"the {label} is missing"
            for label, value in (
                ("first name", registration.first_name),
                ("last name", registration.last_name),
                ("e-mail address", registration.email),
            )
            if _blank(value)
        ]
    if not _blank(registration.email) and not is_valid_email(registration.email):
        problems.append("the e-mail address is not a valid address")

    national_id: str | None = None
    if not _blank(registration.national_id):
        result = parse_national_id(registration.national_id, country, today=today)
        if result.valid:
            national_id = result.canonical
        else:
            problems.append(
                f"the identity number is not a valid {country.value} number ({result.reason})"
            )
    elif national_id_required:
        problems.append("the identity number is missing")

    if registration.kind is Kind.UNREGISTRATION and (
        _blank(registration.email) and _blank(registration.national_id)
    ):
        problems.append("an unregistration needs an e-mail address or an identity number")
    return Checked(
        problems=tuple(problems), national_id=national_id, email=normalise_email(registration.email)
    )


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()
