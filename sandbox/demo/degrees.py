"""The demo's degree part: Ladok issues a student's degree, the degree feed records it and
makes her an alumna, and her registration is approved on it.

Klara is a Student contact in Dataverse. Ladok issues her degree (the emulator publishes an
``UtfardatBevisEvent`` in its Atom feed), the degree feed reads the feed the way its hourly
timer does, and her registration is then approved as an alumna, the degree in the evidence.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from plugins.core.schema_map import SchemaMap
from plugins.core.settings import SyncSettings
from plugins.registration.model import Category, Kind, Status
from plugins.registries.ladok_feed import LadokFeedReader
from plugins.sync.degree_feed import DegreeFeed

if TYPE_CHECKING:
    from . import Demo

MAP = SchemaMap()
KLARA = "199504152381"
EMAIL = "klara.kvist@example.org"
DEGREE = {"code": "F3DAT", "title": "Civilingenjörsexamen i datateknik",
          "title_en": "Degree of Master of Science in Engineering", "awarded_on": "2024-06-14",
          "credits": "300"}


def degree_feed_part(demo: Demo) -> bool:
    """Show a person approved through a degree from Ladok's feed; True when she was."""
    contact, registration = MAP.contact, MAP.registration
    print()
    print("3. A degree from Ladok's event feed")
    demo.client.create(contact.entity_set, {
        contact.first_name: "Klara", contact.last_name: "Kvist",
        contact.emails[0]: EMAIL, contact.national_id: KLARA,
        contact.categories: str(contact.category_values[Category.STUDENT]),
    })
    demo.sandbox.registries.load_seed(
        {"ladok": {KLARA: {"first_name": "Klara", "last_name": "Kvist", "degrees": [DEGREE]}}}
    )
    with tempfile.TemporaryDirectory(prefix="demo-ladok-") as keys:
        settings = demo.sandbox.registries.client_settings(Path(keys) / "k.pem")
    ladok = settings.ladok.model_copy(update={"ca_bundle": demo.sandbox.ca_file})
    reader = LadokFeedReader.from_settings(ladok, settings.http)
    try:
        report = DegreeFeed(
            demo.client, MAP, reader, SyncSettings.DegreeFeed(enabled=True), None
        ).run(datetime.now(UTC))
    finally:
        reader.close()
    print(f"  degree feed: {report.events} events read, {report.degree_events} degree issued, "
          f"{report.alumni} new alumna (Klara: Student -> Student, Alumnus)")
    created = demo.client.create(registration.entity_set, {
        registration.name: "Klara, graduated in Ladok's feed",
        registration.kind: registration.kind_values[Kind.REGISTRATION],
        registration.status: registration.status_values[Status.RECEIVED],
        registration.first_name: "Klara", registration.last_name: "Kvist",
        registration.email: EMAIL, registration.national_id: "19950415-2381",
    })
    demo.settle()
    row = demo.client.get(registration.entity_set, str(created.id),
                          select=(registration.status, registration.reason,
                                  registration.evidence)) or {}
    status = registration.status_of(row.get(registration.status))
    degrees = json.loads(row.get(registration.evidence) or "{}").get("degrees", [])
    print(f"  Klara registers: {status.value if status else '-'} "
          f"({row.get(registration.reason)}), evidence: {'; '.join(degrees) or 'no degree'}")
    return status is Status.APPROVED_ALUMNUS and bool(degrees)
