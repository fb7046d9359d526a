"""Reaching people the register cannot e-mail (pure): which channel, which period, which number.

- :func:`address_request_channel`: a person without a deliverable e-mail address is asked for
  one by SMS when the policy allows an SMS (they chose SMS, consented, have a mobile number,
  no ``donotphone``), else by letter when it allows post (they chose post, their address is
  not protected), else not at all;
- :func:`request_period`: requests are keyed per interval (``interval_days`` long, counted
  from 1970-01-01), so a person is asked at most once per interval whatever the runs do;
- :func:`e164`: a mobile number as ACS wants it (``+46701234567``), from the forms people
  type (``070-123 45 67``, ``0046 70 123 45 67``), with the organisation's country code for
  a national number; None when it cannot be one.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from .lifecycle import stamp
from .policy import Action, Channel, Recipient, check

_EPOCH = date(1970, 1, 1)
_SEPARATORS = re.compile(r"[\s\-().]")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def address_request_channel(recipient: Recipient) -> Channel | None:
    """How to ask ``recipient`` for an e-mail address (None: they cannot be asked)."""
    if recipient.has_email:
        return None
    for channel in (Channel.SMS, Channel.POST):
        if check(recipient, Action(channel)).allowed:
            return channel
    return None


def request_period(today: date, interval_days: int) -> str:
    """The first day of the interval ``today`` falls in, as an event period (``YYYYMMDD``)."""
    if interval_days < 1:
        raise ValueError("the interval is at least one day")
    days = (today - _EPOCH).days
    return stamp(_EPOCH + timedelta(days=days - days % interval_days))


def e164(number: str | None, country_code: str) -> str | None:
    """``number`` in E.164 form, national numbers taking ``country_code`` (``+46``)."""
    if not number:
        return None
    text = _SEPARATORS.sub("", number.strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    elif text.startswith("0"):
        text = country_code + text[1:]
    return text if _E164.match(text) else None
