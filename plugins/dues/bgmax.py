"""Bankgirot's BgMax file (Bankgiro Inbetalningar), read strictly (pure).

The layout follows Bankgirot's technical manual for Bankgiro Inbetalningar (record and file
description of the BgMax file): fixed records of 80 characters in ISO 8859-1, each starting
with its two-digit transaction code (TK):

- ``01`` start: layout name ``BGMAX``, version ``01``, the file's timestamp, ``P``
  (production) or ``T`` (test);
- ``05`` opening of a deposit section: the payee's bankgiro number and currency;
- ``20`` payment and ``21`` deduction: payer's bankgiro, reference (25 characters), amount
  in öre (18 digits), reference code, channel code, Bankgirot's serial number, image flag;
- ``22``/``23`` extra references of the payment before them;
- ``25`` information text, ``26`` name, ``27``/``28`` address, ``29`` organisation number
  of the payer: read for their shape only; the product keeps none of them;
- ``15`` deposit: the payee's account, the payment date, the deposit serial number, the
  deposit's amount, currency and number of payments (TK20 + TK21);
- ``70`` end: the numbers of payment, deduction, extra-reference and deposit records.

Reading is two passes over the same lines so memory stays flat whatever the file's size:
:func:`check` reads every line and checks every field, each deposit's sum and count and
the end record's counts, and raises :class:`BankFileError` with the line number at the
first fault; only then does :func:`payments` yield the payments (each with its deposit's
date, which the file gives after them). A file that fails the check yields nothing.
A payment's key names its deposit and its place in it, so the same deposit delivered again
gives the same keys.

Reference codes: 2 is an OCR reference Bankgirot checked against the agreement; 3 says the
references are in the TK22/TK23 records; 4 is a reference the payer typed (unchecked); 5 a
reference that failed the OCR check; 0 and 1 mean no reference.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from .bankfile import BankFileError, BankPayment, FileSummary

FORMAT = "bgmax"
RECORD_LENGTH = 80
ENCODING = "latin-1"
_PAYMENT_CODES = frozenset({"20", "21"})
_EXTRA_CODES = frozenset({"22", "23"})
_PAYER_CODES = frozenset({"25", "26", "27", "28", "29"})
CHECKED_OCR = "2"
NO_REFERENCE = frozenset({"0", "1"})


@dataclass(frozen=True, slots=True)
class _Record:
    line: int
    code: str
    text: str

    def field(self, start: int, end: int) -> str:
        """Positions ``start``..``end`` (1-based, inclusive) as the manual numbers them."""
        return self.text[start - 1 : end]


@dataclass(frozen=True, slots=True)
class _Entry:
    """A TK20-TK23 record's fields."""

    code: str
    reference: str
    amount: int
    reference_code: str
    serial: str
    line: int


@dataclass(frozen=True, slots=True)
class Deposit:
    """A deposit section's closing facts (TK05 + TK15)."""

    bankgiro: str
    currency: str
    paid_on: date
    serial: str


@dataclass
class _Section:
    bankgiro: str
    currency: str
    line: int
    amount: int = 0
    count: int = 0
    in_payment: bool = False


@dataclass
class Checked:
    """The result of :func:`check`: the summary, and each deposit in file order."""

    summary: FileSummary
    deposits: list[Deposit] = field(default_factory=list)


def check(lines: Iterable[bytes | str]) -> Checked:
    """Read every line and check the file; :class:`BankFileError` at the first fault."""
    deposits: list[Deposit] = []
    counts = {"20": 0, "21": 0, "22": 0, "23": 0, "15": 0}
    total = 0
    section: _Section | None = None
    test = False
    ended = False
    last = 0
    for record in _records(lines):
        last = record.line
        if ended:
            raise BankFileError(record.line, "records after the end record (TK70)")
        code = record.code
        if record.line == 1:
            test = _start(record)
            continue
        if code == "01":
            raise BankFileError(record.line, "a second start record (TK01)")
        if code == "05":
            if section is not None:
                raise BankFileError(record.line, "a new section before the deposit record (TK15)")
            section = _opening(record)
            continue
        if code == "70":
            if section is not None:
                raise BankFileError(record.line, "end record (TK70) inside an open section")
            _end(record, counts)
            ended = True
            continue
        if section is None:
            raise BankFileError(record.line, f"TK{code} outside a section (TK05..TK15)")
        if code in _PAYMENT_CODES:
            entry = _entry(record)
            counts[code] += 1
            section.count += 1
            section.amount += entry.amount if code == "20" else -entry.amount
            section.in_payment = True
        elif code in _EXTRA_CODES or code in _PAYER_CODES:
            if not section.in_payment:
                raise BankFileError(record.line, f"TK{code} before any payment record (TK20)")
            if code in _EXTRA_CODES:
                _entry(record)
                counts[code] += 1
            else:
                _payer(record)
        elif code == "15":
            deposits.append(_deposit(record, section))
            counts["15"] += 1
            total += section.amount
            section = None
        else:
            raise BankFileError(record.line, f"unknown transaction code {code!r}")
    if last == 0:
        raise BankFileError(0, "the file is empty")
    if not ended:
        raise BankFileError(last, "the file ends without its end record (TK70)")
    summary = FileSummary(FORMAT, counts["20"] + counts["21"], Decimal(total) / 100, test)
    return Checked(summary, deposits)


def payments(lines: Iterable[bytes | str], checked: Checked) -> Iterator[BankPayment]:
    """The payments of a file :func:`check` accepted, in file order."""
    deposits = iter(checked.deposits)
    deposit: Deposit | None = None
    current: _Entry | None = None
    extras: list[_Entry] = []
    index = 0
    for record in _records(lines):
        code = record.code
        if code == "05":
            deposit, index = next(deposits), 0
        elif code in _PAYMENT_CODES or code == "15":
            if current is not None and deposit is not None:
                index += 1
                yield _payment(current, extras, deposit, index)
            current, extras = (_entry(record), []) if code in _PAYMENT_CODES else (None, [])
        elif code in _EXTRA_CODES:
            extras.append(_entry(record))


def _payment(entry: _Entry, extras: list[_Entry], deposit: Deposit, index: int) -> BankPayment:
    references: list[str] = []
    if entry.reference_code not in NO_REFERENCE:
        references += entry.reference.split()
    for extra in extras:
        references += extra.reference.split()
    amount = Decimal(entry.amount) / 100
    deduction = entry.code == "21"
    # Bankgirot's serial number repeats within a deposit (its own example does), so a
    # payment is named by its deposit (bankgiro, date, serial) and its place in it.
    key = f"{FORMAT}-{deposit.bankgiro}-{deposit.paid_on:%Y%m%d}-{deposit.serial}-{index}"
    return BankPayment(
        key=key,
        amount=-amount if deduction else amount,
        currency=deposit.currency,
        paid_on=deposit.paid_on,
        references=tuple(dict.fromkeys(references)),
        line=entry.line,
        deduction=deduction,
        reference_checked=entry.reference_code == CHECKED_OCR,
    )


# ---------------------------------------------------------------------------- records


def _records(lines: Iterable[bytes | str]) -> Iterator[_Record]:
    """Each non-blank line as a record of 80 characters; blank lines only at the end."""
    blank_at = 0
    for number, raw in enumerate(lines, start=1):
        text = raw.decode(ENCODING) if isinstance(raw, bytes) else raw
        text = text.rstrip("\r\n")
        if not text.strip():
            blank_at = blank_at or number
            continue
        if blank_at:
            raise BankFileError(blank_at, "an empty line inside the file")
        if len(text) > RECORD_LENGTH:
            raise BankFileError(number, f"{len(text)} characters; a record has {RECORD_LENGTH}")
        if any(ord(c) < 32 or ord(c) == 127 for c in text):
            raise BankFileError(number, "a control character (a tab?) inside the record")
        # File transfers often cut trailing blanks; the record is what is left, padded.
        yield _Record(number, text[:2], text.ljust(RECORD_LENGTH))


def _start(record: _Record) -> bool:
    if record.code != "01" or record.field(3, 22).rstrip() != "BGMAX":
        raise BankFileError(record.line, "not a BgMax file (no TK01 start record 'BGMAX')")
    if record.field(23, 24) != "01":
        raise BankFileError(record.line, f"BgMax version {record.field(23, 24)!r}, not 01")
    stamp = record.field(25, 44)
    try:
        datetime.strptime(stamp[:14], "%Y%m%d%H%M%S")
    except ValueError:
        raise BankFileError(record.line, "the start record's timestamp is not a time") from None
    if not stamp.isdigit():
        raise BankFileError(record.line, "the start record's timestamp is not digits")
    marker = record.field(45, 45)
    if marker not in ("P", "T"):
        raise BankFileError(record.line, f"test marker {marker!r}, not P or T")
    return marker == "T"


def _opening(record: _Record) -> _Section:
    bankgiro = _digits(record, 3, 12, "payee's bankgiro number")
    currency = record.field(23, 25)
    if not currency.isalpha() or not currency.isupper():
        raise BankFileError(record.line, f"currency {currency!r} is not a currency code")
    return _Section(bankgiro.lstrip("0"), currency, record.line)


def _entry(record: _Record) -> _Entry:
    _digits(record, 3, 12, "payer's bankgiro number")
    amount = int(_digits(record, 38, 55, "amount"))
    code = record.field(56, 56)
    if code not in "012345" or code == " ":
        raise BankFileError(record.line, f"reference code {code!r} is not 0-5")
    channel = record.field(57, 57)
    if channel not in "1234" or channel == " ":
        raise BankFileError(record.line, f"channel code {channel!r} is not 1-4")
    serial = _digits(record, 58, 69, "Bankgirot's serial number")
    if record.field(70, 70) not in "012" or record.field(70, 70) == " ":
        raise BankFileError(record.line, "the image marker is not 0, 1 or 2")
    reference = record.field(13, 37).strip()
    if code == CHECKED_OCR and not reference.isdigit():
        raise BankFileError(record.line, "a checked OCR reference (code 2) that is not digits")
    return _Entry(record.code, reference, amount, code, serial, record.line)


def _payer(record: _Record) -> None:
    if record.code == "29":
        _digits(record, 3, 14, "organisation number")


def _deposit(record: _Record, section: _Section) -> Deposit:
    _digits(record, 3, 37, "payee's bank account")
    day = _digits(record, 38, 45, "payment date")
    try:
        paid_on = datetime.strptime(day, "%Y%m%d").date()
    except ValueError:
        raise BankFileError(record.line, f"payment date {day!r} is not a date") from None
    serial = _digits(record, 46, 50, "deposit serial number")
    amount = int(_digits(record, 51, 68, "deposit amount"))
    if record.field(69, 71) != section.currency:
        raise BankFileError(record.line, "the deposit's currency differs from its section's")
    count = int(_digits(record, 72, 79, "number of payments"))
    if amount != section.amount:
        raise BankFileError(
            record.line,
            f"the deposit says {_money(amount)}, its payments add up to {_money(section.amount)}",
        )
    if count != section.count:
        raise BankFileError(
            record.line, f"the deposit says {count} payments, the section has {section.count}"
        )
    return Deposit(section.bankgiro, section.currency, paid_on, serial)


def _end(record: _Record, counts: dict[str, int]) -> None:
    fields = (
        ("payment records", 3, 10, counts["20"]),
        ("deduction records", 11, 18, counts["21"]),
        ("extra reference records", 19, 26, counts["22"] + counts["23"]),
        ("deposit records", 27, 34, counts["15"]),
    )
    for name, start, end, found in fields:
        said = int(_digits(record, start, end, name))
        if said != found:
            raise BankFileError(record.line, f"the end record says {said} {name}, found {found}")


def _digits(record: _Record, start: int, end: int, name: str) -> str:
    value = record.field(start, end)
    if not value.isdigit() or not value.isascii():
        raise BankFileError(
            record.line, f"{name} (positions {start}-{end}) is not digits: {value.strip()!r}"
        )
    return value


def _money(ore: int) -> str:
    return f"{Decimal(ore) / 100:.2f}"
