"""Suspending a member, and lifting a suspension.

A suspension is a case's resolution (``services.resolve_case``), so it runs inside
that transaction and its one moderation entry is the resolution's. Its effects:
sessions end, API tokens are revoked, webhooks turned off and log-in is refused;
open offers are withdrawn (postpaid holds voided) and an award waiting for the member's answer is
turned down, each recording that the
member was suspended (``offers.closed_reason``, so the poster doesn't read it as the
member pulling out); gigs on the board are
cancelled (their offers declined, holds released); pending invites revoked; running
projects are linked to the case, so admins see them on it; the inviter's record
counts one more invitee suspended (and keeps it). Lifting it is an admin
action of its own, with a reason; what the suspension closed stays closed.
"""

from __future__ import annotations

from sqlalchemy import and_, or_, select, update

from offload.accounts.devices import end_member_sessions
from offload.accounts.models import User, new_session_token
from offload.accounts.services import revoke_member_tokens
from offload.core.db import db, transactional, utcnow
from offload.core.errors import NotAllowed
from offload.core.text import clean_text
from offload.core.transitions import update_row
from offload.gigs.lifecycle import lock_gigs
from offload.gigs.models import Gig, GigState
from offload.gigs.services import cancel_member_gigs
from offload.invites.services import revoke_member_invites
from offload.ledger.services import lock_accounts
from offload.moderation.services import record_moderation
from offload.offers.models import LIVE_STATES, Offer
from offload.offers.services import close_member_offers, fee_accounts
from offload.projects.models import Project, ProjectState
from offload.webhooks.services import disable_member_webhooks

from .models import REASON_MAX, Case, CaseEvidence, EvidenceKind


def suspend_member(member: User, *, actor: User, case: Case) -> list[int]:
    """Suspend ``member`` as ``case``'s resolution (joins its transaction); the ids of
    their running projects, now linked to the case for admins. A member already
    suspended (by another case) stays so: nothing more to close."""
    lock_accounts(lock_suspension_gigs(member))
    now = utcnow()
    moved = update_row(member, User.suspended_at.is_(None), refused=None, suspended_at=now,
                       session_token=new_session_token())
    db.session.refresh(member)
    if not moved:
        return []
    end_member_sessions(member.id)  # the signed-in devices list none
    revoke_member_tokens(member.id)  # the API's tokens end with the sessions
    # and nothing more is sent to their webhooks (a password change leaves them on)
    disable_member_webhooks(member.id)
    if member.invited_by_id is not None:
        db.session.execute(update(User).where(User.id == member.invited_by_id).values(
            invitees_suspended=User.invitees_suspended + 1)
            .execution_options(synchronize_session=False))
    reason = f"{member.name} was suspended (case #{case.id})."
    close_member_offers(member, reason=reason, actor_id=actor.id)
    cancel_member_gigs(member.id, reason=reason, actor_id=actor.id)
    revoke_member_invites(member.id)
    running = list(db.session.scalars(select(Project.id).where(
        Project.state == ProjectState.ACTIVE,
        or_(Project.poster_id == member.id, Project.performer_id == member.id))
        .order_by(Project.id)))
    linked = set(db.session.scalars(select(CaseEvidence.target_id).where(
        CaseEvidence.case_id == case.id, CaseEvidence.kind == EvidenceKind.PROJECT)))
    for project_id in running:
        if project_id not in linked:
            db.session.add(CaseEvidence(case_id=case.id, kind=EvidenceKind.PROJECT,
                                        target_id=project_id, added_by_id=None,
                                        note="Running when the member was suspended."))
    db.session.flush()
    return running


def lock_suspension_gigs(member: User) -> set[int]:
    """Lock the gigs suspending ``member`` touches, in id order; the ledger accounts
    whose holds it releases, for the caller to lock at once with every other account
    its transaction touches (``lock_accounts``). Joins the caller's transaction."""
    # the gigs first, in id order, as every offer and gig service locks the gig before
    # its offers and the ledger (so no deadlock with an award or an offer)
    lock_gigs(or_(and_(Gig.poster_id == member.id,
                       Gig.state.in_((GigState.OPEN, GigState.AWARDED))),
                  Gig.id.in_(select(Offer.gig_id).where(Offer.member_id == member.id,
                                                        Offer.state.in_(LIVE_STATES)))))
    # then every ledger account whose hold this releases (the member's offers', and
    # other members' offers on the member's gigs), to be locked at once in id order:
    # released step by step, they would lock revenue and then lower wallets (a deadlock)
    return fee_accounts(or_(Offer.member_id == member.id, Offer.gig_id.in_(
        select(Gig.id).where(Gig.poster_id == member.id,
                             Gig.state.in_((GigState.OPEN, GigState.AWARDED))))))


@transactional
def lift_suspension(member: User, *, actor: User, reason: str) -> User:
    """An admin lets a suspended member log in again (the closed gigs, offers and
    invites stay closed). Writes: a moderation-log entry. Refuses: non-admins; a
    member who isn't suspended (Conflict); a blank reason (Invalid)."""
    if not actor.is_admin:
        raise NotAllowed("Only admins lift suspensions.")
    reason = clean_text("reason", reason, REASON_MAX, "The reason", required=True,
                        multiline=True)
    update_row(member, User.suspended_at.is_not(None), suspended_at=None,
               refused=f"{member.name} is not suspended.")
    db.session.refresh(member)
    record_moderation(actor=actor, action="suspension_lifted", subject_type="member",
                      subject_id=member.id, reason=reason, subject_user=member)
    return member
