"""The pure decision core: registrations decided per second (match + alumni rule + status).

No I/O: every decision is computed from plain values, the way the service calls it after
its one read. Prints decisions per second over a mix of the seed-001 cases.

    python -m bench.decisions [--count 200000]
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from decimal import Decimal

from plugins.registration.decision import Facts, RegistryAnswer, decide
from plugins.registration.eligibility import DEFAULT_RULE, evaluate
from plugins.registration.matching import match_person
from plugins.registration.model import Category, Person, Registration
from plugins.registries.models import Degree, StudyFacts

TODAY = date(2026, 11, 22)
DEGREE = StudyFacts(degrees=(Degree(title="MSc", awarded_on=date(2015, 6, 10)),),
                    credits=Decimal(120))
CATEGORY_MIX = (
    frozenset({Category.REGISTERED_ALUMNUS}),
    frozenset({Category.ALUMNUS}),
    frozenset({Category.STUDENT}),
)


def _case(i: int) -> Facts:
    nid = f"19900101{i % 10000:04d}"
    email = f"person{i}@example.org"
    registration = Registration(id=f"r{i}", national_id=nid, email=email, first_name="A",
                                last_name="B")
    kind = i % 5
    if kind < 3:
        person = Person(id=f"p{i}", national_id=nid, emails=(email,),
                        categories=CATEGORY_MIX[kind])
        return Facts(registration=registration, match=match_person(nid, email, [person]))
    study = DEGREE if kind == 3 else StudyFacts()
    return Facts(
        registration=registration,
        match=match_person(nid, email, []),
        registry=RegistryAnswer.FOUND,
        registry_source="ladok",
        eligibility=evaluate(DEFAULT_RULE, study, self_declared=False, today=TODAY),
    )


def main(argv: list[str] | None = None) -> None:
    """Decide ``--count`` registrations and print the rate."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200_000)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    for i in range(args.count):
        decide(_case(i))
    seconds = time.perf_counter() - started
    print(f"decision core: {args.count} registrations (match + rule + decision) in "
          f"{seconds:.2f} s = {args.count / seconds:,.0f} decisions/s "
          f"({seconds / args.count * 1e6:.1f} us each)")


if __name__ == "__main__":
    main()
