"""The BgMax reader on Bankgirot's own example file, and on every way a file can be wrong."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from plugins.dues import bgmax
from plugins.dues.bankfile import BankFileError
from sandbox.bankfiles import bgmax_lines

EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "bank" / "bgmax_manual_example.txt"


def example() -> list[bytes]:
    return EXAMPLE.read_bytes().splitlines()


def test_manual_example_payments_deposits_and_totals() -> None:
    lines = example()
    checked = bgmax.check(lines)
    assert checked.summary.payments == 7
    assert checked.summary.total == Decimal("99.00") * 100
    assert [d.serial for d in checked.deposits] == ["00074", "00075"]
    payments = list(bgmax.payments(lines, checked))
    assert [p.amount for p in payments] == [
        Decimal(1000), Decimal(-500), Decimal(1400), Decimal(1100), Decimal(1200),
        Decimal(700), Decimal(5000),
    ]
    first, deduction, several = payments[:3]
    assert first.references == ("655969",) and first.reference_checked
    assert first.paid_on == date(2004, 5, 25) and first.currency == "SEK"
    assert deduction.deduction
    assert several.references == ("657866", "658765", "657767", "657965")
    assert payments[4].references == ()
    assert len({p.key for p in payments}) == 7


def test_keys_are_stable_across_reads() -> None:
    lines = example()
    keys = [p.key for p in bgmax.payments(lines, bgmax.check(lines))]
    assert keys == [p.key for p in bgmax.payments(lines, bgmax.check(lines))]


def _broken(index: int, replace: bytes | None) -> list[bytes]:
    lines = example()
    if replace is None:
        del lines[index]
    else:
        lines[index] = replace
    return lines


@pytest.mark.parametrize(
    ("lines", "line", "words"),
    [
        (_broken(0, b"01BGMIN" + b" " * 73), 1, "not a BgMax"),
        (_broken(2, example()[2][:40] + b"x" + example()[2][41:]), 3, "amount"),
        (_broken(2, example()[2][:55] + b"9" + example()[2][56:]), 3, "reference code"),
        (_broken(2, example()[2] + b"   extra beyond eighty"), 3, "characters"),
        (_broken(3, b"26Kalles\tPl\xe5t AB"), 4, "control character"),
        (_broken(22, example()[22][:50] + b"000000000000190001" + example()[22][68:]), 23,
         "add up"),
        (_broken(22, example()[22][:71] + b"00000009"), 23, "payments"),
        (_broken(1, b"99" + b" " * 78), 2, "TK99"),
        (_broken(49, None), 49, "end record"),
        (_broken(49, b"7000000007000000010000000600000002"), 50, "payment records"),
        (_broken(13, b""), 14, "empty line"),
    ],
)
def test_faults_are_reported_with_their_line(lines: list[bytes], line: int, words: str) -> None:
    with pytest.raises(BankFileError) as caught:
        bgmax.check(lines)
    assert caught.value.line == line
    assert words.lower() in caught.value.message.lower()


def test_empty_file() -> None:
    with pytest.raises(BankFileError, match="empty"):
        bgmax.check([])


def test_written_file_reads_back_in_sections() -> None:
    paid = [(str(10_000 + n), Decimal(n) + Decimal("0.50")) for n in range(25)]
    lines = list(bgmax_lines(paid, per_deposit=10))
    checked = bgmax.check(lines)
    assert len(checked.deposits) == 3
    payments = list(bgmax.payments(lines, checked))
    assert [(p.references[0], p.amount) for p in payments] == paid
