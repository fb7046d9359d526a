"""The demo's last part: what the alumni office sees in "Registrations to review".

The office's workspace (solution, team, forms, views, app, roles) is provisioned into the
demo's environment as ``member-plugins provision`` does it; then the view is read the way
the app reads it (``GET mp_registrations?savedQuery=<view>``, the sandbox evaluating the
view's FetchXml) and printed as rows, with whether each has an open review task.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from plugins.admin.provision_plan import mapped_schema
from plugins.admin.workspace import provision as workspace_io
from plugins.admin.workspace.components import workspace
from plugins.admin.workspace.plan import plan_workspace
from plugins.admin.workspace.texts import text
from plugins.admin.workspace.views import view_id
from plugins.core.schema import product_schema
from plugins.core.schema_map import SchemaMap
from plugins.dataverse import odata
from plugins.dataverse.client import DataverseClient
from plugins.registration.records import lookup_property
from plugins.registration.review_text import OfficeLanguage


def print_review_queue(
    client: DataverseClient, schema: SchemaMap, language: OfficeLanguage = "en"
) -> None:
    """Provision the workspace, then print the office's "Registrations to review"."""
    m, t = schema.registration, schema.task
    wanted = workspace(
        schema, mapped_schema(product_schema(), schema), language,
        object_type_code=workspace_io.object_type_code(client, m.table),
    )
    state = workspace_io.read_state(client, wanted)
    workspace_io.apply(client, wanted, plan_workspace(wanted, state), state)
    rows = client.view_rows(m.entity_set, view_id("view.review"))
    lines = []
    for row in rows:
        regarding = odata.eq(lookup_property(t.regarding), uuid.UUID(str(row[m.id])))
        tasks = client.query(t.entity_set, select=[t.id],
                             filter=regarding & odata.eq(t.state, t.open_state))
        received = datetime.fromisoformat(str(row[m.created_on]).replace("Z", "+00:00"))
        lines.append((
            f"{row.get(m.first_name) or ''} {row.get(m.last_name) or ''}".strip(),
            row.get(m.reason) or "", received.strftime("%H:%M:%S"),
            "open" if any(True for _ in tasks) else "none",
        ))
    headers = ("name", "reason", "received", "review task")
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(headers)]
    print()
    print(f"5. What the alumni office sees in \"{text('view.review', language)}\" "
          f"(app \"{text('app', language)}\", oldest first)")
    for cells in (headers, tuple("-" * w for w in widths), *lines):
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
