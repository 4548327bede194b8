"""An admin resets a member's two-factor log-in: the way back for a member who lost
their phone and their backup codes (nothing else on the site removes a second factor
without one).

It lives here, beside the log it writes to, because ``accounts`` sits below
``moderation`` and can't record the entry itself; the second factors are erased by
``accounts.two_factor.erase_second_factors``.

Who may be reset: members only. An admin can't reset their own (the reset is one
person vouching for another's identity after checking it outside the site; done to
oneself it vouches for nothing, and an admin who still holds a fresh code, as every
admin decision needs, has not lost their factor), nor another admin's: with it, one
stolen admin session and password would strip every other admin of the factor that
guards the admin area. An admin who lost theirs is recovered by whoever runs the
server (``flask accounts`` has no command for it yet: the rows are deleted by hand, as
``accounts.two_factor`` says for a changed SECRET_KEY).
"""

from __future__ import annotations

import logging

from offload.accounts.devices import end_member_sessions
from offload.accounts.models import User, new_session_token
from offload.accounts.passwords import verify_password
from offload.accounts.queries import member_row, two_factor_status
from offload.accounts.two_factor import erase_second_factors
from offload.core.db import atomic, db
from offload.core.errors import Conflict, InvalidField, NotAllowed, OffloadError
from offload.core.links import site_path
from offload.notifications.services import notify, queue_email

from .services import record_moderation

log = logging.getLogger("offload.moderation")

OWN_RESET_REFUSAL = ("You can't reset your own two-factor authentication: another admin "
                     "checks who you are and does it. You have a code now, so you haven't "
                     "lost it: make new backup codes on your two-factor page instead.")
ADMIN_RESET_REFUSAL = ("An admin's two-factor authentication can't be reset here: one admin "
                       "account could then strip every other admin of theirs. Whoever runs "
                       "the server removes it.")


def why_cannot_reset_two_factor(member: User, *, actor: User) -> str | None:
    """Why ``actor`` may not reset ``member``'s second factor, or None (read only)."""
    refusal = _refusal(member, actor)
    return str(refusal) if refusal is not None else None


def _refusal(member: User, actor: User) -> OffloadError | None:
    if not member_row(actor).is_admin:
        return NotAllowed("Only admins reset two-factor authentication.")
    if member.id == actor.id:
        return NotAllowed(OWN_RESET_REFUSAL)
    if member.is_admin:
        return NotAllowed(ADMIN_RESET_REFUSAL)
    if not two_factor_status(member.id).is_on:
        return Conflict(f"{member.name} has no two-factor authentication to reset.")
    return None


def reset_member_two_factor(member: User, *, actor: User, password: str, reason: str) -> None:
    """An admin removes a member's second factors so they can log in with the password
    and set them up again.

    State: the member's TOTP secret, backup codes and passkeys deleted; the session
    token rotated and every signed-in device ended (whoever is logged in as the member
    logs in again, with the password alone until the member sets 2FA up again).
    Mails: "two_factor_reset_by_admin" to the member (security mail: always sent).
    Notifies: the member ("two_factor_reset", in the app; can't be turned off).
    Records: a moderation-log entry with the reason (private to admins).
    Refuses: anything ``why_cannot_reset_two_factor`` names (NotAllowed; Conflict when
    there is nothing to reset); a wrong password (InvalidField "password"); a blank
    reason (Invalid).
    """
    refusal = _refusal(member, actor)
    if refusal is not None:
        raise refusal
    if not verify_password(member_row(actor).password_hash, password or ""):
        raise InvalidField("password", "Your password is not correct.")
    with atomic() as session:
        session.refresh(member, with_for_update=True)
        if not two_factor_status(member.id).is_on:  # another admin was quicker
            raise Conflict(f"{member.name} has no two-factor authentication to reset.")
        erase_second_factors(member.id)
        member.session_token = new_session_token()
        end_member_sessions(member.id)
        record_moderation(actor=actor, action="two_factor_reset", subject_type="member",
                          subject_id=member.id, reason=reason, subject_user=member)
        queue_email(member.email, "two_factor_reset_by_admin", user=member, member=member)
        notify(member, "two_factor_reset",
               title="An admin reset your two-factor authentication",
               link=site_path("accounts.two_factor"))
        db.session.flush()
    log.info("two-factor reset", extra={"user_id": member.id, "actor_id": actor.id})
