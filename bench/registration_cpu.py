"""CPU of the registration path in the product's own thread, and the HTTP stack's share.

Starts the sandbox in-process (HTTPS, no injected latency, limits lifted) seeded with
the throughput benchmark's people, creates ``--count`` registrations, then decides them
with the product's service, one event at a time (``RegistrationService.process``, two
``$batch`` round trips each) and in one batch (``BatchProcessor.process``), under
``cProfile`` in the calling thread. The sandbox answers in its own threads, so their CPU is
not counted; the batch's registry look-ups run in worker threads and are not counted either.
Printed per way: the calling thread's CPU per registration and the share spent in the HTTP
stack (``requests``, ``urllib3``, ``http.client``, ``socket``, ``ssl``, ``email``), with
the ``re`` module's compile share for the ``$batch`` answers' boundaries.

    python -m bench.registration_cpu [--count 300]
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import pstats
import tempfile
import time
from pathlib import Path

from plugins.core.settings import Settings
from plugins.dataverse.transport import install_header_parser
from plugins.registration.batches import BatchProcessor
from sandbox.app import Sandbox
from sandbox.config import SandboxConfig
from sandbox.demo import app_settings
from sandbox.host.config import EnvironmentOverlay

from .registration_burst import product_service
from .registration_throughput import REG, UNLIMITED, people, seed

HTTP_MODULES = ("requests/", "urllib3/", "http/client", "socket.py", "ssl.py", "email/")
# Taken before any Dataverse session installs the headers-only parser, for the comparison.
STDLIB_PARSE_HEADERS = http.client.parse_headers


def _profiled(work: list[str], run: object) -> tuple[float, float, float]:
    """(CPU seconds, HTTP-stack share, regex-compile share) of ``run(work)``."""
    profile = cProfile.Profile(time.thread_time)
    profile.enable()
    run(work)  # type: ignore[operator]
    profile.disable()
    stats = pstats.Stats(profile)
    total = in_http = compile_ = 0.0
    for (filename, _, name), (_, _, own, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        total += own
        if any(part in filename for part in HTTP_MODULES):
            in_http += own
        if filename.endswith(("re/__init__.py", "re/_compiler.py", "re/_parser.py")) or (
            "sre_" in filename or name == "_compile"
        ):
            compile_ += own
    return total, in_http / total if total else 0.0, compile_ / total if total else 0.0


def main(argv: list[str] | None = None) -> None:
    """Create the registrations, decide them both ways, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="registrations per way")
    args = parser.parse_args(argv)
    single_people, batch_people = people(0, args.count), people(args.count, args.count)
    with tempfile.TemporaryDirectory(prefix="bench-cpu-") as state:
        config = SandboxConfig(https=True, state_dir=state, limits=UNLIMITED)
        with Sandbox(config, seed=seed(single_people + batch_people)) as sandbox:
            overlay = EnvironmentOverlay(app_settings(sandbox, Path(state) / "key.pem"))
            overlay.apply()
            try:
                service = product_service(Settings())
            finally:
                overlay.restore()
            with service.client:
                def create(group: list) -> list[str]:  # type: ignore[type-arg]
                    return [str(service.client.create(REG.entity_set, p.form()).id)
                            for p in group]

                singles, batched = create(single_people), create(batch_people)
                half = len(singles) // 2
                one = _profiled(singles[:half],
                                lambda ids: [service.process(i, None) for i in ids])
                http.client.parse_headers = STDLIB_PARSE_HEADERS
                try:
                    stdlib = _profiled(singles[half:],
                                       lambda ids: [service.process(i, None) for i in ids])
                finally:
                    install_header_parser()
                processor = BatchProcessor(service)
                size = service.settings.batch_part_size

                def in_parts(ids: list[str]) -> None:
                    for start in range(0, len(ids), size):
                        processor.process(dict.fromkeys(ids[start : start + size]))

                many = _profiled(batched, in_parts)
    print(f"registration CPU in the product's calling thread, {args.count} registrations per "
          "way (sandbox threads and registry look-up workers not counted)")
    half = args.count // 2
    ways = (
        ("one at a time", one, half),
        ("one at a time, the standard library's header parsing", stdlib, args.count - half),
        ("in parts", many, args.count),
    )
    for name, (seconds, share, compile_), count in ways:
        print(f"  {name:<54} {seconds / count * 1000:6.2f} ms per registration, "
              f"HTTP stack {share:4.0%}, regex {compile_:4.1%}")


if __name__ == "__main__":
    main()
