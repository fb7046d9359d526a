"""Cold start: importing ``function_app`` in a fresh process vs importing its dependencies.

The Functions worker imports ``function_app.py`` on every cold start, so whatever the app
imports at module level is paid before the first event is handled. This prints the median
wall time of a fresh interpreter that (a) does nothing, (b) imports only the product's
runtime dependencies (what the registration path needs), (c) imports ``function_app``, and
(d) imports ``function_app`` and then what the first registration event loads (the event
parser and the registration runtime: settings, schema map, Dataverse client, dispatcher,
follow-ups), with (c) and (d) as ratios to (b) side by side. The trigger modules import
their services on first use, so (d) shows where that cost went rather than that it vanished.

The cases take turns within each round, so a burst of load on the shared machine falls on
all of them alike.

    python -m bench.cold_start [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FLOOR = "dependencies alone"
APP = "function_app"
FIRST_REGISTRATION = "function_app + first registration"
CASES = {
    "bare interpreter": "pass",
    FLOOR: "import azure.functions, msal, requests, pydantic, pydantic_settings, tenacity, "
    "stdnum",
    APP: "import function_app",
    # What plugins.registration.functions' LazyModules load on the first event.
    FIRST_REGISTRATION: "import function_app, plugins.core.events, plugins.registration.runtime",
}


def _seconds(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    return time.perf_counter() - started


def medians(runs: int) -> dict[str, float]:
    """The median wall time of each case over ``runs`` rounds of fresh processes."""
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(runs):
        for name, code in CASES.items():
            times[name].append(_seconds(code))
    return {name: statistics.median(values) for name, values in times.items()}


def main(argv: list[str] | None = None) -> None:
    """Print the medians and each app case's ratio to its dependencies."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    results = medians(args.runs)
    width = max(len(name) for name in results)
    print(f"cold start, median of {args.runs} fresh processes per case")
    for name, seconds in results.items():
        print(f"  {name:<{width}} {seconds * 1000:8.1f} ms")
    floor = results[FLOOR]
    ratios = " · ".join(
        f"{name} {results[name] / floor:.2f}x ({(results[name] - floor) * 1000:+.1f} ms)"
        for name in (APP, FIRST_REGISTRATION)
    )
    print(f"  ratio to {FLOOR}: {ratios}")


if __name__ == "__main__":
    main()
