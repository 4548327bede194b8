"""The registry of notification kinds: what members can be told about.

Every ``notify()`` call names a kind from this table; an unknown kind raises, so a
typo fails in tests instead of silently using defaults. The order here is the order
of the preferences page. Security mail (e-mail changed, password reset) is not a
notification: it is always sent and cannot be turned off. Notices a member is held
to account by — a case about them or someone they invited, a commission they owe, a
deposit taken back (which they may owe), a member they answer for moved — can go to
e-mail or stay in the app, but can't be off: "I never heard of it" must not be a setting.
"""

from __future__ import annotations

from typing import NamedTuple

from .models import Channel


class KindInfo(NamedTuple):
    label: str  # shown on the preferences page
    default: Channel
    can_turn_off: bool = True


class UnknownKind(LookupError):
    """A notification kind that is not in ``KINDS``: a programming error."""


KINDS: dict[str, KindInfo] = {
    "invite_accepted": KindInfo("Someone you invited joined", Channel.EMAIL),
    "new_offer": KindInfo("A new offer on your gig", Channel.EMAIL),
    "question_asked": KindInfo("A question about your gig", Channel.EMAIL),
    "question_answered": KindInfo("An answer to your question", Channel.EMAIL),
    "award": KindInfo("Your offer was awarded", Channel.EMAIL),
    "award_accepted": KindInfo("Your award was accepted", Channel.EMAIL),
    "award_declined": KindInfo("Your award was turned down", Channel.EMAIL),
    "award_taken_back": KindInfo("An award to you was taken back", Channel.EMAIL),
    "offer_declined": KindInfo("Your offer was declined or closed", Channel.EMAIL),
    "offer_terms": KindInfo("New terms proposed or answered on an offer", Channel.EMAIL),
    "new_message": KindInfo("A new message about an offer or project", Channel.IN_APP),
    "milestone": KindInfo("Milestone funded, delivered or approved", Channel.EMAIL),
    "stalling_project": KindInfo("A project has gone quiet", Channel.EMAIL),
    "project_event": KindInfo("An update on a project's timeline", Channel.IN_APP),
    "commission_due": KindInfo("A commission is due or overdue", Channel.EMAIL,
                               can_turn_off=False),
    "case_opened": KindInfo("A case was opened about you or a member you invited",
                            Channel.EMAIL, can_turn_off=False),
    "case_resolved": KindInfo("A case about you or a member you invited was resolved",
                              Channel.EMAIL, can_turn_off=False),
    "report_answered": KindInfo("The admins answered your report", Channel.IN_APP),
    "vouch_moved": KindInfo("An admin moved a member you answer for, or you", Channel.EMAIL,
                            can_turn_off=False),
    "review_received": KindInfo("You received a review", Channel.EMAIL),
    "keyword_alert": KindInfo("New gigs matching your alerts", Channel.EMAIL),
    "withdrawal_paid": KindInfo("Your withdrawal was paid out", Channel.EMAIL),
    "withdrawal_rejected": KindInfo("Your withdrawal was rejected", Channel.EMAIL),
    "withdrawal_returned": KindInfo("A paid-out withdrawal came back to your wallet",
                                    Channel.EMAIL),
    "chargeback": KindInfo("A deposit of yours was disputed or refunded, or came back",
                           Channel.EMAIL, can_turn_off=False),
    "contact_answered": KindInfo("The admins answered your contact message", Channel.EMAIL),
    "webhook_disabled": KindInfo("A webhook of yours was turned off after failing",
                                 Channel.EMAIL),
    # the reset's own letter is security mail, always sent (``moderation.account_recovery``)
    "two_factor_reset": KindInfo("An admin reset your two-factor log-in",
                                 Channel.IN_APP, can_turn_off=False),
    "contact_message": KindInfo("A message to the admins from the contact page (admins)",
                                Channel.EMAIL),
}


def kind_info(kind: str) -> KindInfo:
    """The registry entry for ``kind``; raises ``UnknownKind`` for anything else."""
    try:
        return KINDS[kind]
    except KeyError:
        raise UnknownKind(f"unknown notification kind {kind!r}") from None
