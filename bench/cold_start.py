"""Cold start: importing ``function_app`` in a fresh process vs importing its dependencies.

The Functions worker imports ``function_app.py`` on every cold start, so whatever the app
imports at module level is paid before the first event is handled. This prints the median
wall time of a fresh interpreter that (a) does nothing, (b) imports only the product's
runtime dependencies, (c) imports ``function_app``, and the app's own share.

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

CASES = {
    "bare interpreter": "pass",
    "dependencies alone": "import azure.functions, msal, requests, pydantic, pydantic_settings, "
    "tenacity, stdnum",
    "function_app": "import function_app",
}


def _median_seconds(code: str, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    """Print the medians and the app's share over its dependencies."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    results = {name: _median_seconds(code, args.runs) for name, code in CASES.items()}
    print(f"cold start, median of {args.runs} fresh processes")
    for name, seconds in results.items():
        print(f"  {name:<20} {seconds * 1000:8.1f} ms")
    deps = results["dependencies alone"]
    app = results["function_app"]
    print(f"  function_app / dependencies: {app / deps:.2f}x "
          f"(+{(app - deps) * 1000:.1f} ms for the product's own modules)")


if __name__ == "__main__":
    main()
