"""Bank files as a bank would deliver them, for tests, the demo and the benchmarks.

:func:`bgmax_lines` writes a BgMax file (Bankgirot's incoming payments) paying the given
references: a start record, deposit sections of at most ``per_deposit`` payments (TK05, TK20
per payment, TK15 with the section's sum and count) and the end record. Lines are produced
one at a time, so a file of any size can be written without holding it in memory.
:func:`ocr_giro_lines` writes a Nets OCR giro transmission (Norway) paying KIDs.
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


def ocr_giro_lines(
    payments: Iterable[tuple[str, Decimal]],
    *,
    paid_on: date = date(2026, 1, 20),
    transmission: str = "1000081",
    assignment: str = "4000086",
    account: str = "88888888888",
) -> list[str]:
    """The records of a Nets OCR giro transmission paying ``payments`` (KID, amount in
    kroner), one assignment, written with netsgiro's record types."""
    from netsgiro import AssignmentType, ServiceCode, TransactionType, records

    giro = ServiceCode.OCR_GIRO
    kind = TransactionType.FROM_GIRO_DEBITED_ACCOUNT
    lines = [
        records.TransmissionStart(service_code=ServiceCode.NONE, transmission_number=transmission,
                                  data_transmitter="55555555", data_recipient="00008080"),
        records.AssignmentStart(service_code=giro, assignment_type=AssignmentType.TRANSACTIONS,
                                assignment_number=assignment, assignment_account=account,
                                agreement_id="000000000"),
    ]
    total = 0
    count = 0
    for number, (kid, amount) in enumerate(payments, start=1):
        ore = int(amount * 100)
        total += ore
        count += 1
        lines.append(records.TransactionAmountItem1(
            service_code=giro, transaction_type=kind, transaction_number=number,
            nets_date=paid_on, amount=ore, kid=kid, centre_id="01", day_code=paid_on.day,
            partial_settlement_number=1, partial_settlement_serial_number="00001", sign="0",
        ))
        lines.append(records.TransactionAmountItem2(
            service_code=giro, transaction_type=kind, transaction_number=number,
            reference="099038562", form_number="9636827194", bank_date=paid_on,
            debit_account="99990512341", filler="0", payer_name=None,
        ))
    lines.append(records.AssignmentEnd(
        service_code=giro, assignment_type=AssignmentType.TRANSACTIONS, num_transactions=count,
        num_records=2 * count + 2, total_amount=total, nets_date_1=paid_on,
        nets_date_2=paid_on, nets_date_3=None,
    ))
    lines.append(records.TransmissionEnd(
        service_code=ServiceCode.NONE, num_transactions=count, num_records=2 * count + 4,
        total_amount=total, nets_date=paid_on,
    ))
    return [line.to_ocr() for line in lines]
