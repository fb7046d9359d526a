"""The sync timers: register upkeep, new graduates and the lifecycle run, nightly (UTC), and
the Ladok degree feed, hourly, and the erasure requests every quarter of an hour.

Each timer runs one job of :class:`~plugins.sync.jobs.SyncJobs` (the job logs what it did);
a job not enabled in settings does nothing. A failure raises, so the run shows as failed in
Application Insights; the next run picks up where it stopped (checkpoints, enrichment stamps).
The host runs a timer function as a singleton, so a job never overlaps itself. Only the sync
plugin's settings groups are read; a bad value in them fails the run naming the setting.
The jobs are imported on the first run (:class:`plugins.core.lazy.LazyModule`), not when the
Function App starts.
"""

from __future__ import annotations

from datetime import UTC, datetime

import azure.functions as func

from plugins.core.lazy import LazyModule

jobs = LazyModule("plugins.sync.jobs")
settings_groups = LazyModule("plugins.core.settings_groups")

UPKEEP_SCHEDULE = "0 0 1 * * *"
GRADUATES_SCHEDULE = "0 30 1 * * *"
LIFECYCLE_SCHEDULE = "0 0 4 * * *"
DEGREE_FEED_SCHEDULE = "0 10 * * * *"
ERASURE_SCHEDULE = "0 */15 * * * *"

blueprint = func.Blueprint()


@blueprint.timer_trigger(arg_name="timer", schedule=UPKEEP_SCHEDULE, use_monitor=True)
def sync_register_upkeep(timer: func.TimerRequest) -> None:
    """Refresh stale contacts from the population register."""
    with jobs.SyncJobs(settings_groups.load_plugin("sync")) as run:
        run.upkeep(datetime.now(UTC))


@blueprint.timer_trigger(arg_name="timer", schedule=GRADUATES_SCHEDULE, use_monitor=True)
def sync_new_graduates(timer: func.TimerRequest) -> None:
    """Make graduated students alumni."""
    with jobs.SyncJobs(settings_groups.load_plugin("sync")) as run:
        run.graduates(datetime.now(UTC))


@blueprint.timer_trigger(arg_name="timer", schedule=DEGREE_FEED_SCHEDULE, use_monitor=True)
def sync_degree_feed(timer: func.TimerRequest) -> None:
    """Record the degrees Ladok issued since the last run and make the graduates alumni."""
    with jobs.SyncJobs(settings_groups.load_plugin("sync")) as run:
        run.degree_feed(datetime.now(UTC))


@blueprint.timer_trigger(arg_name="timer", schedule=LIFECYCLE_SCHEDULE, use_monitor=True)
def sync_lifecycle(timer: func.TimerRequest) -> None:
    """Membership statuses and the lifecycle messages due since the last run."""
    with jobs.SyncJobs(settings_groups.load_plugin("sync")) as run:
        run.lifecycle(datetime.now(UTC))


@blueprint.timer_trigger(arg_name="timer", schedule=ERASURE_SCHEDULE, use_monitor=True)
def sync_erasure_requests(timer: func.TimerRequest) -> None:
    """Carry out the office's erasure requests."""
    with jobs.SyncJobs(settings_groups.load_plugin("sync")) as run:
        run.erasure(datetime.now(UTC))
