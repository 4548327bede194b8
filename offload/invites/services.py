"""Sending, revoking, redeeming and expiring invites."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from offload.accounts.models import User, WorkRole
from offload.accounts.services import create_member, normalize_email
from offload.core.db import atomic, db, utcnow
from offload.core.errors import Conflict, Invalid, NotAllowed
from offload.core.links import external_url, site_path
from offload.core.tokens import hash_token, new_token
from offload.core.transitions import move_row
from offload.notifications.services import notify, queue_email

from .models import INVITE_TRANSITIONS, Invite, InviteState
from .policies import why_cannot_invite

log = logging.getLogger("offload.invites")


def send_invite(*, actor: User, email: str, vouch_note: str) -> Invite:
    """Invite an e-mail address, vouching for its owner.

    Refuses: unconfirmed members, a used-up quota, an address that is a member or
    already has a pending invite.
    Mails: the invite link (the token itself is never stored, only its hash).
    """
    email = normalize_email(email)
    vouch_note = vouch_note.strip()
    if not vouch_note:
        raise Invalid("Say why you trust this person: it's part of your vouch.")
    with atomic():
        reason = why_cannot_invite(actor)
        if reason:
            raise NotAllowed(reason)
        if db.session.scalar(select(func.count()).where(User.email == email)):
            raise Conflict("That person is already a member.")
        _expire_due(utcnow())  # a stale pending invite for this address must not block it
        token = new_token()
        invite = Invite(inviter_id=actor.id, email=email, vouch_note=vouch_note,
                        token_hash=hash_token(token), state=InviteState.PENDING,
                        expires_at=utcnow() + timedelta(days=current_app.config["INVITE_TTL_DAYS"]))
        db.session.add(invite)
        try:
            with db.session.begin_nested():
                db.session.flush()
        except IntegrityError as e:
            raise Conflict("That address already has a pending invite.") from e
        queue_email(email, "invite", inviter=actor, invite=invite,
                    link=external_url("invites.accept", token=token))
    log.info("invite sent", extra={"inviter_id": actor.id, "invite_id": invite.id})
    return invite


def revoke_invite(invite: Invite, *, actor: User) -> None:
    """Withdraw a pending invite; its link stops working and the quota place returns."""
    if invite.inviter_id != actor.id and not actor.is_admin:
        raise NotAllowed("Only the member who sent an invite can revoke it.")
    with atomic():
        pending_only = "Only a pending invite can be revoked."
        move_row(invite, InviteState.REVOKED, INVITE_TRANSITIONS, not_allowed=pending_only,
                 refused=pending_only, state_changed_at=utcnow())
    db.session.refresh(invite)


def revoke_member_invites(member_id: int) -> int:
    """A suspended member's pending invites stop working; how many. Joins the
    suspension's transaction."""
    with atomic():
        return db.session.execute(
            update(Invite).where(Invite.inviter_id == member_id,
                                 Invite.state == InviteState.PENDING)
            .values(state=InviteState.REVOKED, state_changed_at=utcnow())
            .execution_options(synchronize_session=False)).rowcount


def find_invite(token: str) -> Invite | None:
    return db.session.scalar(select(Invite).where(Invite.token_hash == hash_token(token)))


def check_invite_usable(invite: Invite | None) -> Invite:
    """The invite if its link can still sign someone up; otherwise a clear refusal."""
    if invite is None:
        raise Invalid("This invite link is not valid. Check that you copied all of it.")
    state = invite.effective_state()
    if state == InviteState.ACCEPTED:
        raise Conflict("This invite has already been used to create an account. "
                       "If that was you, log in.")
    if state == InviteState.REVOKED:
        raise Conflict("This invite was withdrawn by the member who sent it.")
    if state == InviteState.EXPIRED:
        raise Conflict("This invite has expired. Ask the member who invited you for a new one.")
    return invite


def accept_invite(token: str, *, username: str, email: str, password: str,
                  display_name: str, account_type: str, organization_name: str,
                  work_role: str = WorkRole.BOTH, time_zone: str = "UTC") -> User:
    """Sign up from an invite; the link works exactly once, even under racing requests.

    State: invite pending → accepted; a new member whose ``invited_by`` is the inviter.
    Notifies: the inviter. Mails: a confirmation link to the new member.
    """
    with atomic():
        invite = check_invite_usable(find_invite(token))
        inviter = db.session.get(User, invite.inviter_id)
        user = create_member(username=username, email=email, password=password,
                             display_name=display_name, account_type=account_type,
                             organization_name=organization_name, work_role=work_role,
                             invited_by=inviter, time_zone=time_zone)
        # the guard makes the redemption single: a concurrent sign-up changes no row
        used = "This invite has just been used to create an account."
        move_row(invite, InviteState.ACCEPTED, INVITE_TRANSITIONS, not_allowed=used,
                 refused=used, guard=(Invite.expires_at > utcnow(),),
                 accepted_user_id=user.id, state_changed_at=utcnow())
        notify(inviter, "invite_accepted", title=f"{user.name} accepted your invite and joined",
               link=site_path("profiles.show", username=user.username))
    log.info("invite accepted", extra={"invite_id": invite.id, "user_id": user.id})
    return user


def _expire_due(now: datetime) -> int:
    return db.session.execute(
        update(Invite).where(Invite.state == InviteState.PENDING, Invite.expires_at <= now)
        .values(state=InviteState.EXPIRED, state_changed_at=now)).rowcount


def expire_invites(*, now: datetime | None = None) -> int:
    """Mark pending invites past their expiry as expired; returns how many."""
    with atomic():
        return _expire_due(now or utcnow())
