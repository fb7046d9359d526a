"""Run every benchmark in turn, each printing its figures (what ``make bench`` runs).

The counts are modest, so the whole run takes a few minutes; ``--quick`` makes them smaller
still, for a smoke run. Each benchmark is also a module of its own with its full options:
``python -m bench.<name> --help``.

    python -m bench [--quick] [NAME ...]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

from . import (
    client_upsert,
    cold_start,
    data_check,
    decisions,
    degree_feed,
    dues,
    registration_burst,
    registration_cpu,
    registration_registries,
    registration_throughput,
    sandbox_gets,
    upkeep,
)


@dataclass(frozen=True)
class Benchmark:
    """One benchmark module's ``main`` and the arguments it gets here."""

    main: Callable[[list[str] | None], None]
    arguments: list[str]
    quick: list[str]


BENCHMARKS = {
    "decisions": Benchmark(decisions.main, ["--count", "200000"], ["--count", "20000"]),
    "cold_start": Benchmark(cold_start.main, ["--runs", "7"], ["--runs", "3"]),
    "sandbox_gets": Benchmark(sandbox_gets.main, ["--count", "3000"], ["--count", "500"]),
    "client_upsert": Benchmark(client_upsert.main, ["--count", "5000"], ["--count", "1000"]),
    "upkeep": Benchmark(upkeep.main, ["--counts", "100000", "--sample", "2000"],
                        ["--counts", "10000", "--sample", "500"]),
    "degree_feed": Benchmark(degree_feed.main, ["--events", "100000", "--degrees", "5000"],
                             ["--events", "10000", "--degrees", "500"]),
    "data_check": Benchmark(data_check.main, ["--count", "100000", "--cap", "2000"],
                            ["--count", "5000", "--cap", "200"]),
    "dues": Benchmark(dues.main, ["--count", "100000", "--deliver", "200"],
                      ["--count", "5000", "--deliver", "50"]),
    "registration_throughput": Benchmark(
        registration_throughput.main, ["--count", "150", "--batch-sizes", "1,8,16,32,64,100"],
        ["--count", "40", "--limit-scale", "100"],
    ),
    "registration_cpu": Benchmark(
        registration_cpu.main, ["--count", "200"], ["--count", "40"],
    ),
    "registration_burst": Benchmark(
        registration_burst.main, ["--count", "3000"], ["--count", "300"],
    ),
    "registration_registries": Benchmark(
        registration_registries.main, ["--count", "200"], ["--count", "50"],
    ),
}


def main(argv: list[str] | None = None) -> None:
    """Run the benchmarks named (all by default) and print their figures."""
    parser = argparse.ArgumentParser(prog="python -m bench",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts, a smoke run")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"only these, of {', '.join(BENCHMARKS)}")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmarks {unknown}; choose from {', '.join(BENCHMARKS)}")
    started = time.perf_counter()
    for name in args.names or BENCHMARKS:
        benchmark = BENCHMARKS[name]
        arguments = benchmark.quick if args.quick else benchmark.arguments
        print(f"\n== {name} {' '.join(arguments)}", flush=True)
        began = time.perf_counter()
        benchmark.main(arguments)
        print(f"   ({time.perf_counter() - began:.0f} s)", flush=True)
    print(f"\nall benchmarks: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
