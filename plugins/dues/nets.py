"""Nets' OCR giro file (Norway's incoming payments with KID), read with ``netsgiro``.

``netsgiro`` (a maintained parser of Nets' OCR giro and AvtaleGiro formats) reads the whole
transmission: transmission and assignment start and end records around each payment's two
amount items. Each line is first parsed on its own, so a malformed line is reported with its
number; then the transmission as a whole (record order, counts) is read. Only OCR giro
assignments of transactions are payments; anything else in the file is refused.

A payment's key names the transmission, the assignment and the transaction number, as Nets
numbers them. Nets files are small (one per day and agreement), so the file is held in
memory while it is read, unlike BgMax.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import netsgiro
from netsgiro import records

from .bankfile import BankFileError, BankPayment, FileSummary

FORMAT = "nets-ocr"
ENCODING = "latin-1"
START = "NY000010"
CURRENCY = "NOK"


def looks_like(head: bytes) -> bool:
    """Whether a file starting with ``head`` is a Nets transmission."""
    return head.startswith(START.encode())


class NetsReader:
    """Checks and reads one OCR giro file."""

    format = FORMAT

    def __init__(self, path: Path) -> None:
        self._path = path
        self._transmission: netsgiro.Transmission | None = None

    def check(self) -> FileSummary:
        """Parse every line, then the transmission; :class:`BankFileError` at a fault."""
        text = self._path.read_bytes().decode(ENCODING)
        lines = [line.rstrip("\r") for line in text.split("\n")]
        while lines and not lines[-1].strip():
            lines.pop()
        for number, line in enumerate(lines, start=1):
            try:
                records.parse(line)
            except ValueError as exc:
                raise BankFileError(number, _reason(exc)) from None
        try:
            transmission = netsgiro.parse("\n".join(lines))
        except ValueError as exc:
            raise BankFileError(0, f"not a valid OCR giro transmission: {_reason(exc)}") from None
        for assignment in transmission.assignments:
            if assignment.service_code is not netsgiro.ServiceCode.OCR_GIRO:
                raise BankFileError(0, f"assignment {assignment.number} is not OCR giro")
        self._transmission = transmission
        count = sum(len(a.transactions) for a in transmission.assignments)
        total = sum((t.amount for a in transmission.assignments for t in a.transactions),
                    Decimal(0))
        return FileSummary(FORMAT, count, total)

    def payments(self) -> Iterator[BankPayment]:
        """The payments of the checked file, in file order."""
        transmission = self._transmission
        if transmission is None:
            raise RuntimeError("check() first")
        for assignment in transmission.assignments:
            for transaction in assignment.transactions:
                key = f"{FORMAT}-{transmission.number}-{assignment.number}-{transaction.number}"
                kid = (transaction.kid or "").strip()
                yield BankPayment(
                    key=key,
                    amount=Decimal(transaction.amount),
                    currency=CURRENCY,
                    paid_on=transaction.date,
                    references=(kid,) if kid else (),
                    line=0,
                )


def _reason(exc: ValueError) -> str:
    """netsgiro's message without the line it quotes (it may hold a payer's name)."""
    return str(exc).split(":")[0].split(" got ")[0].replace("'", "")[:120]
