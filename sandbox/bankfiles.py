"""Bank files as a bank would deliver them, for tests, the demo and the benchmarks.

:func:`bgmax_lines` writes a BgMax file (Bankgirot's incoming payments) paying the given
references: a start record, deposit sections of at most ``per_deposit`` payments (TK05, TK20
per payment, TK15 with the section's sum and count) and the end record. Lines are produced
one at a time, so a file of any size can be written without holding it in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from itertools import islice
from pathlib import Path


def bgmax_lines(
    payments: Iterable[tuple[str, Decimal]],
    *,
    bankgiro: str = "9912346",
    paid_on: date = date(2026, 1, 15),
    per_deposit: int = 10_000,
    first_serial: int = 1,
    created: datetime = datetime(2026, 1, 15, 17, 30, 35),
) -> Iterator[str]:
    """The records (80 characters, no line break) of a BgMax file paying ``payments``
    (reference, amount in kronor); an empty reference is a payment without one."""
    yield _record(f"01{'BGMAX':<20}01{created:%Y%m%d%H%M%S}{created.microsecond:06d}P")
    counts = {"payments": 0, "deposits": 0}
    iterator = iter(payments)
    serial = first_serial
    while section := list(islice(iterator, per_deposit)):
        yield _record(f"05{int(bankgiro):010d}{'':10}SEK")
        total = 0
        for index, (reference, amount) in enumerate(section, start=1):
            ore = int(amount * 100)
            total += ore
            code = "2" if reference.isdigit() else ("4" if reference else "1")
            shown = f"{reference:>25}" if code == "2" else f"{reference:<25}"
            yield _record(f"20{37835:010d}{shown}{ore:018d}{code}1{index:012d}0")
        yield _record(
            f"15{58410000010098:035d}{paid_on:%Y%m%d}{serial:05d}{total:018d}SEK"
            f"{len(section):08d}"
        )
        counts["payments"] += len(section)
        counts["deposits"] += 1
        serial += 1
    yield _record(f"70{counts['payments']:08d}{0:08d}{0:08d}{counts['deposits']:08d}")


def write_bgmax(path: Path, payments: Iterable[tuple[str, Decimal]], **options: object) -> Path:
    """Write a BgMax file (ISO 8859-1, CRLF line ends as Bankgirot delivers them)."""
    with path.open("w", encoding="latin-1", newline="\r\n") as stream:
        for line in bgmax_lines(payments, **options):  # type: ignore[arg-type]
            stream.write(line + "\n")
    return path


def _record(text: str) -> str:
    if len(text) > 80:
        raise ValueError(f"record longer than 80 characters: {text!r}")
    return text.ljust(80)
