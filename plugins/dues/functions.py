"""The dues triggers: the nightly run, and the payment provider's webhook.

The webhook is anonymous at the Functions level: the provider authenticates by signing the
body (HMAC-SHA256, ``DUES__WEBHOOK_SECRET``). A body over ``DUES__WEBHOOK_MAX_BYTES`` gets 413,
a missing or wrong signature 401, a body that is not a payment 400, a bad ``DUES__*`` (or
Dataverse) setting 503 naming it, and none of these writes anything. A recorded (or already
recorded) payment gets 200. Only the dues plugin's settings groups are read; the pages'
organisation name is used when it can be read, and a bad page setting never stops dues.

The dues services (and their PDF library) are imported on the first invocation
(:class:`plugins.core.lazy.LazyModule`), not when the Function App starts.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import azure.functions as func

from plugins.core.lazy import LazyModule

if TYPE_CHECKING:
    from plugins.core.settings import Settings

dataverse_errors = LazyModule("plugins.dataverse.errors")
runtime = LazyModule("plugins.dues.runtime")
settings_groups = LazyModule("plugins.core.settings_groups")
webhook = LazyModule("plugins.dues.webhook")

DUES_SCHEDULE = "0 0 3 * * *"

log = logging.getLogger(__name__)
blueprint = func.Blueprint()


@blueprint.timer_trigger(arg_name="timer", schedule=DUES_SCHEDULE, use_monitor=True)
def dues_run(timer: func.TimerRequest) -> None:
    """Memberships, invoices, their delivery and payment reminders."""
    with runtime.Dues(_settings()) as dues:
        dues.run(datetime.now(UTC))


@blueprint.route(route="payments/webhook", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def payments_webhook(req: func.HttpRequest) -> func.HttpResponse:
    """A payment reported by the organisation's payment provider."""
    try:
        settings = _settings()
    except settings_groups.SettingsError as exc:
        body = json.dumps({"error": "configuration", **exc.as_dict()})
        return func.HttpResponse(body, status_code=503, mimetype="application/json")
    body = req.get_body()
    if len(body) > settings.dues.webhook_max_bytes:
        return _answer(413, "body too large")
    secret = settings.dues.webhook_secret
    if secret is None:
        log.error("payments webhook: DUES__WEBHOOK_SECRET is not set")
        return _answer(503, "not configured")
    signature = req.headers.get(webhook.SIGNATURE_HEADER)
    if not webhook.signature_ok(secret.get_secret_value().encode(), body, signature):
        log.warning("payments webhook: bad signature; nothing written")
        return _answer(401, "bad signature")
    try:
        payment = webhook.payment_of(body)
    except webhook.WebhookError as exc:
        return _answer(400, str(exc))
    try:
        with runtime.Dues(settings) as dues:
            report = dues.record_webhook(payment)
    except dataverse_errors.DataverseError as exc:
        log.error("payments webhook: %s", type(exc).__name__)
        return _answer(503, "try again later")
    outcome = "duplicate" if report.duplicates else next(iter(report.by_match), "recorded")
    return _answer(200, outcome)


def _settings() -> Settings:
    """The dues plugin's groups, with the pages' settings when they are valid (the invoice
    names the organisation as the pages do)."""
    settings = settings_groups.load_plugin("dues")
    try:
        selfservice = settings_groups.load_group("selfservice")
    except settings_groups.SettingsError:
        return settings
    return settings.model_copy(update={"selfservice": selfservice})


def _answer(status: int, outcome: str) -> func.HttpResponse:
    return func.HttpResponse(
        json.dumps({"outcome": outcome}), status_code=status, mimetype="application/json"
    )
