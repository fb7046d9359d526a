"""Keeping the member register current: registry enrichment and lifecycle.

Pure core: :mod:`.enrichment` (registry diffs), :mod:`.lifecycle` (statuses and due
events), :mod:`.triggers` (what Dataverse events start at once), :mod:`.policy` (preferences
and consent), :mod:`.templates`, :mod:`.tombstone`, :mod:`.graduation`. Services:
:mod:`.upkeep` (register upkeep), :mod:`.graduates` (new graduates), :mod:`.service` (the
lifecycle run) and :mod:`.follow_ups` (event-started messages), both recording and delivering
through :mod:`.ledger` with :mod:`.delivery`; :mod:`.erasure` (GDPR erasure),
:mod:`.memberships` and :mod:`.repository` (checkpoints, tombstones); :mod:`.jobs` builds them
from settings for the timers in :mod:`.functions` and the event triggers.
"""
