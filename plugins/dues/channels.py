"""How an invoice or a payment reminder reaches a person (pure), on the consent policy.

A person who chose post gets a printed invoice, unless the policy refuses post (a protected
identity's address is never printed on a letter, do-not-post, no address): then e-mail is
tried. E-mail about one's own membership fee is not a relationship channel the person opts
into, so the channel choice does not apply to it; everything else the policy checks does
(deceased, no communication, do-not-e-mail, an address to write to).
"""

from __future__ import annotations

from dataclasses import replace

from plugins.sync.policy import Action, Channel, Recipient, Verdict, check


def invoice_channel(recipient: Recipient) -> tuple[Channel | None, Verdict]:
    """The channel to use (None: refused) and the verdict that decided it."""
    if Channel.POST in recipient.channels:
        verdict = check(recipient, Action(Channel.POST))
        if verdict.allowed:
            return Channel.POST, verdict
    return email_channel(recipient)


def email_channel(recipient: Recipient) -> tuple[Channel | None, Verdict]:
    """E-mail, if the policy allows it (with e-mail counted as chosen)."""
    chosen = replace(recipient, channels=recipient.channels | {Channel.EMAIL})
    verdict = check(chosen, Action(Channel.EMAIL))
    return (Channel.EMAIL if verdict.allowed else None), verdict
