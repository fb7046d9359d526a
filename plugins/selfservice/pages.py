"""What each self-service page does, on plain request and response values.

Pages (under ``.../mypage``): the start page, registration, asking for an update or an
unregistration link, the page a link opens, the "done" pages, and the optional OpenID
Connect sign-in. A registration is confirmed through a link e-mailed to the matched person's
address on file (or, for a new person, to the address typed in): only following it lets the
registration change an existing person. Every form is checked in full (CSRF token,
honeypot, rate limits, every field) before anything is written; a submission is answered
with a redirect (303) to a "done" page so reloading it sends nothing twice. A link request
is answered the same way and after the same time whether or not the address is known; so
is a registration.
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from plugins.core.schema_map import SchemaMap
from plugins.core.settings import SelfServiceSettings
from plugins.dataverse.errors import DataverseError
from plugins.identity import Country, normalise_email
from plugins.registration.model import Kind, Status

from . import forms
from .account_texts import account_text
from .confirmations import ConfirmationRecord, ConfirmationStale, proposal_of
from .csrf import CsrfError, FormUse, check_csrf, csrf_token
from .frame import Frame, Visit
from .i18n import TEXTS, Language, text
from .oidc import Identity, OidcClient, OidcError
from .ratelimit import RateLimiter
from .rendering import render_email
from .signing import (
    KeyRing,
    Link,
    LinkPurpose,
    TokenError,
    TokenExpired,
    link_token,
    new_link,
    read_link_token,
)
from .store import (
    Contact,
    Email,
    FormAlreadyUsed,
    LinkAlreadyUsed,
    LinkRecord,
    RegistrationDraft,
    SelfServicePort,
)
from .web import PageRequest, PageResponse

log = logging.getLogger(__name__)

PROFILE_ORDER = (
    "first_name", "last_name", "email", "national_id", "phone", "topics", "channels", "consent",
)
OUTCOMES = {
    "registered": ("registered_title", "registered_next", "registered_confirm"),
    "link-sent": ("link_sent_title", "link_sent_text"),
    "updated": ("updated_title", "updated_text"),
    "unregistered": ("unregistered_title", "unregistered_keep"),
    "membership-ended": ("unregistered_title", "unregistered_terminate"),
    "confirmed": ("confirmed_title", "confirmed_text"),
}
# Where "ask for a new link" leads from a broken link: a confirmation is asked for anew by
# registering again.
_NEW_LINK_PAGE = {
    LinkPurpose.UPDATE: "update", LinkPurpose.UNREGISTER: "unregister",
    LinkPurpose.CONFIRM: "register",
}
_CONFIRM_ATTEMPTS = 3
_STATE_LAYOUT = struct.Struct(">q16s2s")


class SelfServicePages:
    """The pages of one organisation; thread-safe (a Function App instance shares one)."""

    def __init__(
        self,
        settings: SelfServiceSettings,
        schema: SchemaMap,
        store: SelfServicePort,
        keys: KeyRing,
        *,
        oidc: OidcClient | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.schema = schema
        self.store = store
        self.keys = keys
        self.oidc = oidc
        self.clock = clock
        self.pause = pause
        self.frame = Frame(settings)
        window = settings.rate_limit_window_seconds
        self.per_address = RateLimiter(settings.rate_limit_per_address, window)
        self.per_email = RateLimiter(settings.rate_limit_per_email, window)
        self.rules = forms.Rules(
            topics=tuple(schema.preferences.topic_values),
            channels=tuple(schema.preferences.channel_values),
            countries=settings.national_id_countries,
            national_id_required=settings.national_id_required,
        )

    # ------------------------------------------------------------------ pages

    def home(self, request: PageRequest) -> PageResponse:
        """The start page: register, update, unregister."""
        visit = self.frame.visit(request)
        return self.frame.page(visit, "home.html", 200, text(visit.lang, "home_title"))

    def register(self, request: PageRequest) -> PageResponse:
        """The registration form, and its submission."""
        visit = self.frame.visit(request)
        if request.method != "POST":
            return self._profile_form(visit, "register", forms.Typed(), {}, 200)
        form = request.form
        use = self._csrf_ok(visit, "register")
        if use is None:
            typed = forms.typed_from(form)
            return self._profile_form(visit, "register", typed, {}, 400, notice="error_session")
        if forms.honeypot_filled(form):
            log.info("selfservice: registration honeypot filled; nothing written")
            return self.frame.redirect(visit, "done/registered")
        limited = self._limit_address(visit)
        if limited is not None:
            return limited
        checked = forms.check_profile(form, self.rules)
        if checked.result is None:
            return self._profile_form(visit, "register", checked.typed, checked.problems, 400)
        profile = checked.result
        if not self.per_email.allow(f"register:{normalise_email(profile.email)}"):
            return self.frame.too_many(visit, self.settings.rate_limit_window_seconds)
        started = time.monotonic()
        try:
            registration_id = self.store.create_registration(self._draft(profile, None), use)
        except FormAlreadyUsed:
            log.info("selfservice: registration form sent again with a used token; refused")
            return self._profile_form(
                visit, "register", checked.typed, {}, 400, notice="error_session"
            )
        log.info("selfservice: registration %s created (Received)", registration_id)
        self._send_confirmation(visit, registration_id, profile)
        # The same answer after the same time, whether the person is known or not.
        self.pause(max(0.0, self.settings.link_request_min_seconds - (time.monotonic() - started)))
        return self.frame.redirect(visit, "done/registered")

    def request_link(self, request: PageRequest, purpose: LinkPurpose) -> PageResponse:
        """The form asking for an update or unregistration link, and its submission."""
        visit = self.frame.visit(request)
        form_name = f"request:{purpose.value}"
        if request.method != "POST":
            return self._request_form(visit, purpose, forms.Typed(), {}, 200)
        form = request.form
        use = self._csrf_ok(visit, form_name)
        if use is None:
            typed = forms.typed_from(form)
            return self._request_form(visit, purpose, typed, {}, 400, notice="error_session")
        if forms.honeypot_filled(form):
            log.info("selfservice: link request honeypot filled; nothing sent")
            return self.frame.redirect(visit, "done/link-sent")
        limited = self._limit_address(visit)
        if limited is not None:
            return limited
        checked = forms.check_email_request(form)
        if checked.result is None:
            return self._request_form(visit, purpose, checked.typed, checked.problems, 400)
        try:
            self.store.use_form(use)
        except FormAlreadyUsed:
            log.info("selfservice: link request sent again with a used token; refused")
            return self._request_form(
                visit, purpose, checked.typed, {}, 400, notice="error_session"
            )
        started = time.monotonic()
        self._send_link(visit, purpose, checked.result)
        # The same answer after the same time, whether the address is known or not.
        self.pause(max(0.0, self.settings.link_request_min_seconds - (time.monotonic() - started)))
        return self.frame.redirect(visit, "done/link-sent")

    def link(self, request: PageRequest) -> PageResponse:
        """The page an e-mailed link opens (update or unregistration), and its submission."""
        visit = self.frame.visit(request)
        token = request.route.get("token", "")
        try:
            link = read_link_token(self.keys, token, self.clock())
        except TokenExpired as exc:
            purpose = exc.link.purpose if exc.link else LinkPurpose.UPDATE
            return self._link_problem(visit, "link_expired", purpose, 410)
        except TokenError:
            return self._link_problem(visit, "link_invalid", LinkPurpose.UPDATE, 400)
        if request.method == "POST":
            limited = self._limit_address(visit)
            if limited is not None:
                return limited
        if link.purpose is LinkPurpose.CONFIRM:
            return self._confirmation(visit, link)
        record = self.store.open_link(link)
        if record is None or record.contact is None:
            return self._link_problem(visit, "link_invalid", link.purpose, 400)
        if record.used:
            return self._link_problem(visit, "link_used", link.purpose, 410)
        if request.method != "POST":
            return self._link_form(visit, link, record.contact, self._prefill(record.contact))
        return self._submit_link(visit, link, record, record.contact)

    def done(self, request: PageRequest) -> PageResponse:
        """The page after a submission: what happens next."""
        visit = self.frame.visit(request)
        outcome = OUTCOMES.get(request.route.get("outcome", ""))
        if outcome is None:
            return self.frame.message(visit, 404, "not_found_title", ["not_found_text"])
        title, *bodies = outcome
        minutes = self.settings.link_lifetime_minutes
        paragraphs = [text(visit.lang, body, minutes=minutes) for body in bodies]
        return self.frame.page(
            visit, "message.html", 200, text(visit.lang, title), paragraphs=paragraphs,
            action_href=None, action_label="",
        )

    def signin(self, request: PageRequest) -> PageResponse:
        """Send the browser to the OpenID Connect provider (when one is configured)."""
        visit = self.frame.visit(request)
        if self.oidc is None:
            return self.frame.message(visit, 404, "not_found_title", ["not_found_text"])
        expires = int((self.clock() + timedelta(minutes=10)).timestamp())
        payload = _STATE_LAYOUT.pack(
            expires, _digest(self.keys, visit.session_id), visit.lang.encode()
        )
        state = self.keys.sign("oidc-state", payload)
        try:
            url = self.oidc.authorization_url(
                self._callback_url(visit), state, self.keys.derive("oidc-nonce", state),
                self.keys.derive("oidc-pkce", state), visit.lang,
            )
        except OidcError as exc:
            log.warning("selfservice: OpenID Connect provider unavailable: %s", exc)
            return self._profile_form(
                visit, "register", forms.Typed(), {}, 200, notice="signin_failed"
            )
        return self.frame.redirect_to(visit, url)

    def signin_callback(self, request: PageRequest) -> PageResponse:
        """Back from the provider: the registration form, prefilled with name and e-mail."""
        visit = self.frame.visit(request)
        if self.oidc is None:
            return self.frame.message(visit, 404, "not_found_title", ["not_found_text"])
        state = request.query.get("state", "")
        code = request.query.get("code", "")
        try:
            lang = self._check_state(state, visit.session_id)
            if not code:
                raise OidcError(f"no code: {request.query.get('error', 'unknown')}")
            identity = self.oidc.identity(
                code, self._callback_url(visit), self.keys.derive("oidc-pkce", state),
                self.keys.derive("oidc-nonce", state),
            )
        except (OidcError, TokenError) as exc:
            log.warning("selfservice: sign-in failed: %s", type(exc).__name__)
            return self._profile_form(
                visit, "register", forms.Typed(), {}, 200, notice="signin_failed"
            )
        visit = replace(visit, lang=lang)
        return self._profile_form(visit, "register", _typed_identity(identity), {}, 200)

    # --------------------------------------------------------------- actions

    def _send_link(self, visit: Visit, purpose: LinkPurpose, email: str) -> None:
        if not self.per_email.allow(f"link:{normalise_email(email)}"):
            log.info("selfservice: link request over the per-e-mail limit; nothing sent")
            return
        recipients = self.store.recipients(email)
        if len(recipients) != 1:
            log.info("selfservice: link request matched %d people; nothing sent", len(recipients))
            return
        recipient = recipients[0]
        lifetime = timedelta(minutes=self.settings.link_lifetime_minutes)
        link = new_link(purpose, self.clock(), lifetime)
        url = self._link_url(visit, link)
        email = self._link_email(visit.lang, link, url, recipient.first_name)
        try:
            self.store.issue_link(link, recipient, email)
        except DataverseError as exc:
            # Answered like every other request: an error page here would tell the address
            # is known. The person can ask again.
            log.error("selfservice: could not create the link e-mail: %s", type(exc).__name__)
            return
        log.info(
            "selfservice: %s link %s sent to contact %s",
            purpose.value, link.id, recipient.contact_id,
        )

    def _send_confirmation(
        self, visit: Visit, registration_id: str, profile: forms.Profile
    ) -> None:
        """E-mail the registration's confirmation link: to the matched person's address on
        file, or to the address typed in when nobody matches (never both, never to an
        address typed in that a matched person does not have)."""
        country = Country(self.settings.national_id_countries[0])
        try:
            target = self.store.confirmation_target(profile.national_id, profile.email, country)
            if target is None:
                log.info("selfservice: registration %s: no address to confirm with; the "
                         "office sees its proposed changes", registration_id)
                return
            # Counted per recipient, not per address typed in: registrations naming one
            # person's identity number with ever new addresses must not flood their inbox.
            if not self.per_email.allow(f"confirm:{normalise_email(target.address)}"):
                log.warning("selfservice: registration %s: confirmations to that address are "
                            "rate-limited; the office sees its proposed changes", registration_id)
                return
            lifetime = timedelta(minutes=self.settings.link_lifetime_minutes)
            link = new_link(LinkPurpose.CONFIRM, self.clock(), lifetime)
            url = self._link_url(visit, link)
            name = target.first_name if target.contact_id else profile.first_name
            email = self._link_email(visit.lang, link, url, name)
            self.store.issue_confirmation(link, registration_id, target, email)
        except DataverseError as exc:
            # The registration stands; its proposed changes wait for the office. An error
            # page here would tell whether the person is known.
            log.error("selfservice: could not send the confirmation of %s: %s",
                      registration_id, type(exc).__name__)
            return
        log.info("selfservice: confirmation link %s for registration %s sent (%s)",
                 link.id, registration_id, "person on file" if target.contact_id else "new")

    def _confirmation(self, visit: Visit, link: Link) -> PageResponse:
        """The page a confirmation link opens, and its submission."""
        country = Country(self.settings.national_id_countries[0])
        for _ in range(_CONFIRM_ATTEMPTS):
            record = self.store.open_confirmation(link, country)
            if record is None:
                return self._link_problem(visit, "link_invalid", link.purpose, 400)
            if record.used:
                return self._link_problem(visit, "link_used", link.purpose, 410)
            status = self.schema.registration.status_of(
                record.registration_row.get(self.schema.registration.status)
            )
            if status in (None, Status.RECEIVED):
                return self.frame.message(
                    visit, 200, "confirm_pending_title", ["confirm_pending_text"]
                )
            if visit.request.method != "POST":
                return self._confirm_form(visit, link, record, 200)
            if self._csrf_ok(visit, f"link:{link.id}") is None:
                return self._confirm_form(visit, link, record, 400, notice="error_session")
            if forms.honeypot_filled(visit.request.form):
                log.info("selfservice: confirmation honeypot filled; nothing written")
                return self.frame.redirect(visit, "done/confirmed")
            try:
                applied = self.store.confirm(record, self.clock())
            except LinkAlreadyUsed:
                return self._link_problem(visit, "link_used", link.purpose, 410)
            except ConfirmationStale:
                log.info("selfservice: confirmation %s: changed meanwhile, re-reading", link.id)
                continue
            log.info("selfservice: confirmation link %s used (proposed changes %s)",
                     link.id, "applied" if applied else "none")
            return self.frame.redirect(visit, "done/confirmed")
        return self.frame.unavailable(visit.request)

    def _confirm_form(
        self, visit: Visit, link: Link, record: ConfirmationRecord, status: int,
        *, notice: str | None = None,
    ) -> PageResponse:
        lang = visit.lang
        proposal = proposal_of(
            record.registration_row.get(self.schema.registration.proposed_changes)
        ) or {}
        applied = record.registration_row.get(self.schema.registration.proposed_changes_applied_on)
        return self.frame.page(
            visit, "confirm.html", status, text(lang, "confirm_title"),
            intro=text(lang, "confirm_intro", org=self.frame.look.org),
            changes=[] if applied else self._change_lines(lang, proposal),
            action=visit.request.path,
            csrf=self._csrf(visit, f"link:{link.id}"),
            notice=text(lang, notice) if notice else None,
        )

    def _change_lines(
        self, lang: Language, proposal: Mapping[str, object]
    ) -> list[tuple[str, str]]:
        """The proposed changes as (label, value) lines in the person's language."""
        labels = {
            "first_name": "first_name", "last_name": "last_name", "email": "email",
            "phone": "phone", "national_id": "national_id", "topics": "topics_legend",
            "channels": "channels_legend", "consent_version": "consent_given",
        }
        lines = []
        for name, key in labels.items():
            value = proposal.get(name)
            if name in ("topics", "channels") and isinstance(value, list):
                prefix = name[:-1]
                value = ", ".join(text(lang, f"{prefix}_{v}") for v in value
                                  if f"{prefix}_{v}" in TEXTS[lang])
            if value is not None:
                lines.append((text(lang, key), str(value)))
        return lines

    def _link_url(self, visit: Visit, link: Link) -> str:
        token = link_token(self.keys, link)
        return f"{self.frame.public_base()}/link/{token}?lang={visit.lang}"

    def _link_email(self, lang: Language, link: Link, url: str, first_name: str) -> Email:
        org = self.settings.organisation_name
        subject = text(lang, f"email_subject_{link.purpose.value}", org=org)
        html = render_email(
            lang,
            subject=subject,
            greeting=text(lang, "email_greeting", name=first_name),
            body=text(lang, f"email_body_{link.purpose.value}", org=org),
            url=url,
            expiry=text(lang, "email_expiry", time=f"{link.expires_at:%Y-%m-%d %H:%M}"),
            ignore=text(lang, "email_ignore"),
            org=org,
        )
        return Email(subject, html)

    def _submit_link(
        self, visit: Visit, link: Link, record: LinkRecord, contact: Contact
    ) -> PageResponse:
        form = visit.request.form
        # The link itself is single-use, in the change set that writes: it covers the token.
        if self._csrf_ok(visit, f"link:{link.id}") is None:
            return self._link_form(
                visit, link, contact, forms.typed_from(form), status=400, notice="error_session"
            )
        if forms.honeypot_filled(form):
            log.info("selfservice: link form honeypot filled; nothing written")
            unregistering = link.purpose is LinkPurpose.UNREGISTER
            outcome = "done/unregistered" if unregistering else "done/updated"
            return self.frame.redirect(visit, outcome)
        if link.purpose is LinkPurpose.UNREGISTER:
            terminate = bool(forms.check_unregistration(form).result)
            draft = RegistrationDraft(
                kind=Kind.UNREGISTRATION,
                first_name=contact.first_name,
                last_name=contact.last_name,
                email=contact.email,
                terminate_membership=terminate,
                person_id=contact.id,
                proof_link_id=link.id,
            )
            outcome = "done/membership-ended" if terminate else "done/unregistered"
        else:
            checked = forms.check_profile(form, self.rules, national_id_optional=True)
            if checked.result is None:
                return self._link_form(
                    visit, link, contact, checked.typed, checked.problems, status=400
                )
            # Made through a link sent to the person's own address: proof of control.
            draft = replace(self._draft(checked.result, contact.id), proof_link_id=link.id)
            outcome = "done/updated"
        try:
            self.store.submit_with_link(record, draft, self.clock())
        except LinkAlreadyUsed:
            return self._link_problem(visit, "link_used", link.purpose, 410)
        log.info("selfservice: %s link %s used", link.purpose.value, link.id)
        return self.frame.redirect(visit, outcome)

    def _draft(self, profile: forms.Profile, person_id: str | None) -> RegistrationDraft:
        return RegistrationDraft(
            kind=Kind.REGISTRATION,
            first_name=profile.first_name,
            last_name=profile.last_name,
            email=profile.email,
            national_id=profile.national_id,
            phone=profile.phone,
            topics=profile.topics,
            channels=profile.channels,
            self_declared=profile.self_declared,
            consent_version=self.settings.consent_version,
            consent_on=self.clock(),
            person_id=person_id,
        )

    def _check_state(self, state: str, session_id: str) -> Language:
        payload = self.keys.verify("oidc-state", state)
        if len(payload) != _STATE_LAYOUT.size:
            raise TokenError("wrong state size")
        expires, binding, lang = _STATE_LAYOUT.unpack(payload)
        if binding != _digest(self.keys, session_id):
            raise TokenError("state of another browser")
        if self.clock().timestamp() >= expires:
            raise TokenExpired("sign-in took too long")
        code = lang.decode(errors="replace")
        if code not in TEXTS:
            raise TokenError("unknown language")
        return code  # type: ignore[return-value]

    # ------------------------------------------------------------- protection

    def _csrf_ok(self, visit: Visit, form_name: str) -> FormUse | None:
        """The form's token, checked (None: refused); whether it was used before is
        checked when the form writes."""
        token = (visit.request.form.get("csrf") or [""])[0]
        try:
            return check_csrf(
                self.keys, token, visit.request.session_id(), form_name, self.clock()
            )
        except CsrfError as exc:
            log.info("selfservice: form refused, CSRF check failed (%s)", exc)
            return None

    def _limit_address(self, visit: Visit) -> PageResponse | None:
        address = visit.request.client_address(self.settings.trusted_proxy_hops)
        if address is None:
            # Never one shared bucket for everyone whose address is unknown.
            log.warning("selfservice: no client address in X-Forwarded-For; refused")
            return self.frame.bad_request(visit.request)
        if self.per_address.allow(f"address:{address}"):
            return None
        log.info("selfservice: rate limit per address reached")
        return self.frame.too_many(visit, self.per_address.retry_after(f"address:{address}"))

    # -------------------------------------------------------------- rendering

    def _profile_form(
        self,
        visit: Visit,
        form_name: str,
        typed: forms.Typed,
        problems: Mapping[str, forms.Problem],
        status: int,
        *,
        notice: str | None = None,
        update: bool = False,
        action: str = "",
        account_href: str | None = None,
    ) -> PageResponse:
        lang = visit.lang
        prefs = self.schema.preferences
        title = text(lang, "update_title" if update else "register_title")
        signin = None
        if self.oidc is not None and not update:
            signin = f"{visit.base}/signin?lang={lang}"
        hint = text(lang, "national_id_keep_hint" if update else "national_id_hint")
        org = self.frame.look.org
        return self.frame.page(
            visit, "profile.html", status, title,
            intro=text(lang, "update_intro" if update else "register_intro", org=org),
            action=action or f"{visit.base}/register",
            csrf=self._csrf(visit, form_name),
            typed=typed,
            problems=problems,
            order=PROFILE_ORDER,
            anchors=_anchors(prefs.topic_values, prefs.channel_values),
            notice=text(lang, notice) if notice else None,
            national_id_required=self.rules.national_id_required and not update,
            national_id_hint=hint,
            topics=[(name, text(lang, f"topic_{name}")) for name in prefs.topic_values],
            channels=[(name, text(lang, f"channel_{name}")) for name in prefs.channel_values],
            consent_text=self.settings.consent_text.get(lang)
            or text(lang, "consent_text", org=org),
            consent_version=self.settings.consent_version,
            submit=text(lang, "submit_update" if update else "submit_register"),
            signin_href=signin,
            signin_provider=self.oidc.display_name if self.oidc is not None else "",
            account_href=account_href,
            account_label=account_text(lang, "account_link"),
        )

    def _request_form(
        self,
        visit: Visit,
        purpose: LinkPurpose,
        typed: forms.Typed,
        problems: Mapping[str, forms.Problem],
        status: int,
        *,
        notice: str | None = None,
    ) -> PageResponse:
        lang = visit.lang
        return self.frame.page(
            visit, "request_link.html", status, text(lang, f"request_{purpose.value}_title"),
            intro=text(lang, f"request_{purpose.value}_intro"),
            action=f"{visit.base}/{purpose.value}",
            csrf=self._csrf(visit, f"request:{purpose.value}"),
            typed=typed,
            problems=problems,
            anchors={"email": "field-email"},
            notice=text(lang, notice) if notice else None,
        )

    def _link_form(
        self,
        visit: Visit,
        link: Link,
        contact: Contact,
        typed: forms.Typed,
        problems: Mapping[str, forms.Problem] | None = None,
        *,
        status: int = 200,
        notice: str | None = None,
    ) -> PageResponse:
        action = visit.request.path
        form_name = f"link:{link.id}"
        if link.purpose is LinkPurpose.UPDATE:
            return self._profile_form(
                visit, form_name, typed, problems or {}, status, notice=notice, update=True,
                action=action, account_href=action.replace("/link/", "/account/", 1),
            )
        return self.frame.page(
            visit, "unregister.html", status, text(visit.lang, "unregister_title"),
            name=contact.first_name,
            action=action,
            csrf=self._csrf(visit, form_name),
            typed=typed,
            problems={},
            notice=text(visit.lang, notice) if notice else None,
        )

    def _prefill(self, contact: Contact) -> forms.Typed:
        consent = contact.consent_version == self.settings.consent_version
        return forms.Typed(
            text={
                "first_name": contact.first_name,
                "last_name": contact.last_name,
                "email": contact.email,
                "phone": contact.phone,
            },
            ticked={
                "topics": contact.topics,
                "channels": contact.channels,
                "consent": frozenset({forms.CHECKED}) if consent else frozenset(),
            },
        )

    def _link_problem(
        self, visit: Visit, problem: str, purpose: LinkPurpose, status: int
    ) -> PageResponse:
        lang = visit.lang
        return self.frame.page(
            visit, "message.html", status, text(lang, f"{problem}_title"),
            paragraphs=[text(lang, f"{problem}_text")],
            action_href=f"{visit.base}/{_NEW_LINK_PAGE[purpose]}?lang={lang}",
            action_label=text(lang, "request_new_link"),
        )

    def _csrf(self, visit: Visit, form_name: str) -> str:
        lifetime = timedelta(minutes=self.settings.form_lifetime_minutes)
        return csrf_token(self.keys, visit.session_id, form_name, self.clock(), lifetime)

    def _callback_url(self, visit: Visit) -> str:
        return f"{self.frame.public_base()}/signin/callback"



def _anchors(topics: dict[str, int], channels: dict[str, int]) -> dict[str, str]:
    """Where each field's entry in the error summary takes the keyboard."""
    anchors = {name: f"field-{name}" for name in forms.TEXT_FIELDS}
    anchors["consent"] = "field-consent"
    anchors["topics"] = f"field-topics-{next(iter(topics))}"
    anchors["channels"] = f"field-channels-{next(iter(channels))}"
    return anchors


def _typed_identity(identity: Identity) -> forms.Typed:
    return forms.Typed(
        text={
            "first_name": identity.first_name,
            "last_name": identity.last_name,
            "email": identity.email,
        }
    )


def _digest(keys: KeyRing, session_id: str) -> bytes:
    return keys.derive("oidc-session", session_id).encode()[:16]
