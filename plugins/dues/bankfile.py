"""What every bank file reader gives the payment import (pure): payments and strict errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


class BankFileError(ValueError):
    """A file that is not what its format says; ``line`` is 1-based (0: the file as a whole)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line
        self.message = message


@dataclass(frozen=True, slots=True)
class BankPayment:
    """One incoming payment as the bank reported it.

    ``key`` is built from the bank's own identifiers, so the same payment has the same key
    in every file that reports it. ``references`` holds every reference the payer gave
    (several when one payment covers several invoices); ``deduction`` marks money going the
    other way (a credit the bank deducted), whose ``amount`` is then negative.
    """

    key: str
    amount: Decimal
    currency: str
    paid_on: date
    references: tuple[str, ...]
    line: int
    deduction: bool = False
    reference_checked: bool = False


@dataclass(frozen=True, slots=True)
class FileSummary:
    """What a checked file holds: its payments, their sum, and its own name for itself."""

    format: str
    payments: int
    total: Decimal
    test: bool = False
