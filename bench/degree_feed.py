"""The Ladok degree feed over a long feed: events per second, Dataverse requests per degree
recorded, and peak memory at two feed lengths (flat in the feed's length).

Starts a sandbox in-process (plain HTTP on 127.0.0.1, Dataverse's request limit lifted so
the figures are round trips, not throttling) whose Ladok emulator publishes a feed of
``--events`` events, ``--degrees`` of them degrees issued (``UtfardatBevisEvent``) spread
evenly among attested course results, ``--page-size`` events per page. Every other graduate
has a contact already (found by personnummer through Ladok); the others are recorded by
student id only. The feed is read from scratch (the first run walks the archive links back
to page 1) by :class:`~plugins.sync.degree_feed.DegreeFeed` in a child process, so its peak
memory is the reader's alone; the same is done with a feed a fifth as long for comparison.

    python -m bench.degree_feed [--events 100000] [--degrees 5000] [--page-size 100]
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from stdnum import luhn

from plugins.core.schema_map import SchemaMap
from plugins.core.settings import DataverseSettings, RegistrySettings, SyncSettings
from plugins.dataverse.client import DataverseClient
from plugins.registries.ladok_feed import LadokFeedReader
from plugins.sync.degree_feed import DegreeFeed
from plugins.sync.repository import MappedTable
from sandbox.app import Sandbox
from sandbox.config import Limits, SandboxConfig

from .child import StaticToken, peak_kib, rss_kib

SCHEMA = SchemaMap()
NOW = datetime(2025, 6, 23, 1, 0, tzinfo=UTC)
DEGREE = {"code": "F2MSC", "title": "Teknologie masterexamen", "title_en": "Master of Science",
          "awarded_on": "2024-06-14", "credits": "120"}


def personnummer(index: int) -> str:
    """A valid 12-digit personnummer, one birth date per index."""
    born = date(1960, 1, 1) + timedelta(days=index)
    digits = born.strftime("%y%m%d") + "238"
    return born.strftime("%Y%m%d") + "238" + luhn.calc_check_digit(digits)


def publish(sandbox: Sandbox, events: int, degrees: int, page_size: int) -> list[str]:
    """The feed: ``degrees`` degree events spread among ``events``; the graduates' numbers."""
    ladok = sandbox.registries.ladok
    ladok.feed.page_size = page_size
    gap = events // degrees - 1
    numbers = [personnummer(i) for i in range(degrees)]
    for number in numbers:
        sandbox.registries.load_seed({"ladok": {number: {"degrees": [DEGREE]}}})
        ladok.feed.publish_other(gap)
    ladok.feed.publish_other(events - len(ladok.feed))
    return numbers


def consume(base_url: str, token: str, ladok: dict[str, Any], flush: int) -> dict[str, Any]:
    """Read the whole feed once (in the child process); the run's figures."""
    settings = DataverseSettings(url=base_url)
    registry = RegistrySettings.Ladok.model_validate(ladok)
    http = RegistrySettings.Http()
    with DataverseClient(settings, token_provider=StaticToken(token)) as client:
        reader = LadokFeedReader.from_settings(registry, http)
        feed = DegreeFeed(client, SCHEMA, reader,
                          SyncSettings.DegreeFeed(enabled=True, flush_events=flush,
                                                  max_pages_per_run=1_000_000), None)
        before = rss_kib()
        started = time.perf_counter()
        report = feed.run(NOW)
        seconds = time.perf_counter() - started
        peak = peak_kib()
        reader.close()
        return {
            "events": report.events, "degree_events": report.degree_events,
            "recorded": report.recorded, "alumni": report.alumni, "pages": report.pages,
            "finished": report.finished, "seconds": seconds,
            "dataverse": client.request_counter.by_method(),
            "rss_start_kib": before, "rss_peak_kib": peak,
        }


def run(events: int, degrees: int, page_size: int, flush: int) -> dict[str, Any]:
    """Publish a feed, give every other graduate a contact, read the feed in a child."""
    limits = Limits(requests=10_000_000)
    with TemporaryDirectory(prefix="bench-feed-") as state, Sandbox(
        SandboxConfig(limits=limits, state_dir=state)
    ) as sandbox:
        numbers = publish(sandbox, events, degrees, page_size)
        with DataverseClient(DataverseSettings(url=sandbox.base_url),
                             token_provider=StaticToken(sandbox.auth.issue_token())) as admin:
            admin.create_multiple(
                MappedTable.of(SCHEMA.contact),
                [{"lastname": "Alumn", "mp_nationalid": n} for n in numbers[::2]],
            )
        ladok = sandbox.registries.client_settings(Path(state) / "k.pem").ladok
        sandbox.registries.reset_stats()
        context = multiprocessing.get_context("spawn")
        with context.Pool(1) as pool:
            figures = pool.apply(
                consume,
                (sandbox.base_url, sandbox.auth.issue_token(lifetime_seconds=7200),
                 ladok.model_dump(), flush),
            )
        figures["ladok_requests"] = sandbox.registries.stats()["ladok"]["requests"]
        recorded = sum(1 for _ in sandbox.store.rows("mp_degree"))
    if recorded != degrees or figures["events"] != events:
        raise RuntimeError(f"expected {degrees} degrees of {events} events, got {figures}")
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.degree_feed",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--degrees", type=int, default=5_000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--flush", type=int, default=500, help="degree events per write")
    args = parser.parse_args(argv)
    for share in (5, 1):
        events, degrees = args.events // share, args.degrees // share
        f = run(events, degrees, args.page_size, args.flush)
        dataverse = sum(f["dataverse"].values())
        print(
            f"feed of {f['events']:,} events ({f['degree_events']:,} degrees, {f['pages']} pages "
            f"read, first run incl. the walk back): {f['seconds']:.1f} s, "
            f"{f['events'] / f['seconds']:,.0f} events/s; "
            f"{f['recorded']:,} degrees recorded, {f['alumni']:,} new alumni"
        )
        print(
            f"  Dataverse requests {dataverse} {f['dataverse']} = "
            f"{dataverse / f['recorded']:.3f} per degree recorded; "
            f"Ladok requests {f['ladok_requests']:,}"
        )
        print(
            f"  reader process memory: {f['rss_start_kib'] / 1024:.1f} MiB before the run, "
            f"peak {f['rss_peak_kib'] / 1024:.1f} MiB"
        )


if __name__ == "__main__":
    main()
