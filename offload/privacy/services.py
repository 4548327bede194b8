"""Deleting a member's account (one transaction)."""

from __future__ import annotations

import logging

from sqlalchemy import delete, func, or_, select, update

from offload.accounts.models import (
    AccountType,
    MemberSession,
    PasswordResetRequest,
    PersonalToken,
    User,
    new_session_token,
)
from offload.accounts.passwords import verify_password
from offload.accounts.queries import member_row, two_factor_status
from offload.accounts.two_factor import check_code, erase_second_factors
from offload.alerts.models import Alert
from offload.alerts.services import delete_alert
from offload.cases.suspension import lock_suspension_gigs
from offload.contact.models import ContactMessage
from offload.core.db import db, transactional, utcnow
from offload.core.errors import Conflict, InvalidField, NotAllowed
from offload.exports.services import erase_member_exports
from offload.feeds.services import revoke_member_feed_link
from offload.gigs.closing import GigClosed
from offload.gigs.models import ClientDetails, Gig, GigAttachment, GigState
from offload.gigs.services import cancel_member_gigs, remove_gig_attachment
from offload.invites.models import Invite, InviteState
from offload.invites.services import revoke_member_invites
from offload.ledger.models import AccountKind, LedgerAccount
from offload.ledger.services import lock_accounts
from offload.moderation.services import record_moderation
from offload.notifications.models import OutboxEmail
from offload.notifications.services import erase_member_notifications, queue_email
from offload.offers.services import close_member_offers
from offload.profiles.services import erase_profile
from offload.wallet.models import Withdrawal
from offload.webhooks.models import WebhookEndpoint
from offload.webhooks.services import delete_webhook_endpoint

from .policies import ADMIN_REFUSAL, deletion_blockers

log = logging.getLogger("offload.privacy")

# a password hash no password matches (Werkzeug's check refuses a hash without a method)
UNUSABLE_PASSWORD = "!deleted"
# the .invalid top-level domain is reserved never to resolve (RFC 2606): no mail to it
# can be delivered, and the member's id keeps it unique
PLACEHOLDER_DOMAIN = "deleted.invalid"
# what an erased text the database requires to be non-empty holds
ERASED_TEXT = "(erased)"


def placeholder_name(member_id: int) -> str:
    return f"Deleted member #{member_id}"


def placeholder_username(member_id: int) -> str:
    """A username sign-up can't take (it allows no dot), so nobody can claim it first."""
    return f"deleted.{member_id}"


def placeholder_email(member_id: int) -> str:
    return f"deleted-{member_id}@{PLACEHOLDER_DOMAIN}"


def delete_account(*, actor: User, password: str, code: str | None = None) -> None:
    """Delete the actor's own account by anonymising it, after their password (and a
    code from their app or a backup code when 2FA is on).

    State: the name becomes "Deleted member #<id>", the username ``deleted.<id>``, the
    e-mail a unique undeliverable placeholder; the password, pending e-mail,
    organization and last log-in cleared; ``deleted_at`` set; the session token
    rotated (every session ends). Deleted: the profile with its skills, education,
    portfolio and documents (their files and the photo's after commit), personal
    tokens, the feed link, webhooks (with their deliveries), alerts, the two-factor
    set-up and backup codes, signed-in devices, a password reset asked for their
    address, notifications, the mail queued for or sent to the member, their referral
    clients' details, their drafts' files (rows and names). Blanked: their drafts' text, their
    address on every invite to or from them (an invite still pending to it revoked),
    their withdrawals' bank details, their name and address on messages to the admins.
    Kept: ledger rows (with the Stripe
    references, the payout account's too), messages, reviews, the invite tree; the
    whole list is ``inventory``, which the delete page shows.
    Closed, as a suspension closes them (the same services): their open offers
    withdrawn and an award waiting on them turned down (the poster told), their gigs on
    the board cancelled (the offerers told), their unused invites revoked.
    Mails: a confirmation to the old address (queued for no member; the outbox keeps
    the address it is sent to).
    Records: a moderation-log entry, the member as actor.
    Refuses: admins (NotAllowed); anything ``deletion_blockers`` names (Conflict, the
    first reason); a wrong password (InvalidField "password"); with 2FA on, a missing
    or wrong code (InvalidField "code").
    The password is checked (slowly, by design) once, before the transaction; the
    transaction (``_delete``) is run again on a PostgreSQL serialization failure or
    deadlock, as every service's is.
    """
    user = member_row(actor)
    if user.is_admin:
        raise NotAllowed(ADMIN_REFUSAL)
    _refuse_if_blocked(user.id)
    if not verify_password(user.password_hash, password or ""):
        raise InvalidField("password", "Your password is not correct.")
    _delete(user, code)
    log.info("account deleted", extra={"user_id": user.id})


@transactional
def _delete(user: User, code: str | None) -> None:
    """``delete_account``'s one transaction: everything it does after the password."""
    session = db.session
    # as a suspension does: the gigs this closes (in id order, before offers and the
    # ledger, as every offer service does), then at once every ledger account it
    # touches (the holds it releases, and the member's wallet and debt), then the
    # member; a deposit's credit takes the accounts and then the member too, so money
    # can't arrive between the check below and the deletion (``wallet._credit``)
    lock_accounts(lock_suspension_gigs(user) | set(session.scalars(
        select(LedgerAccount.id).where(
            LedgerAccount.owner_id == user.id,
            LedgerAccount.kind.in_((AccountKind.WALLET, AccountKind.DEBT))))))
    session.execute(select(User.id).where(User.id == user.id).with_for_update())
    session.refresh(user)
    if user.is_deleted:
        raise Conflict("This account is already deleted.")
    _refuse_if_blocked(user.id)
    if two_factor_status(user.id).is_on:
        if not (code or "").strip():
            raise InvalidField("code", "Enter the code from your app, or a backup code.")
        check_code(user, code)
    old_email, old_name, old_username = user.email, user.name, user.username
    _close_what_is_open(user)
    _erase_credentials(user.id)
    erase_profile(user.id)
    for endpoint_id in session.scalars(select(WebhookEndpoint.id)
                                       .where(WebhookEndpoint.user_id == user.id)):
        delete_webhook_endpoint(endpoint_id, actor=user)
    for alert in session.scalars(select(Alert).where(Alert.user_id == user.id)).all():
        delete_alert(alert, actor=user)
    _erase_traces(user.id, old_email)
    erase_member_exports(user.id)  # the zips go once this commits
    # copies of letters to the member (and ones not sent yet, such as the notices of
    # what closed above) hold their address and what was said to them
    session.execute(delete(OutboxEmail).where(or_(
        OutboxEmail.user_id == user.id, OutboxEmail.to_address == old_email))
        .execution_options(synchronize_session=False))
    # queued after, and for no member: it stays in the log of mail sent, the one
    # place their old address remains (``inventory.KEPT``)
    queue_email(old_email, "account_deleted", name=old_name, username=old_username,
                placeholder=placeholder_name(user.id))
    user.display_name = placeholder_name(user.id)
    user.username = placeholder_username(user.id)
    user.email = placeholder_email(user.id)
    user.pending_email = None
    user.password_hash = UNUSABLE_PASSWORD
    user.account_type = AccountType.INDIVIDUAL
    user.organization_name = None
    user.time_zone = "UTC"  # where they live, roughly
    user.last_login_at = None
    user.session_token = new_session_token()
    user.deleted_at = utcnow()
    record_moderation(actor=user, action="account_deleted", subject_type="user",
                      subject_id=user.id, reason="deleted their account",
                      subject_user=user)


def _refuse_if_blocked(member_id: int) -> None:
    blockers = deletion_blockers(member_id)
    if blockers:
        raise Conflict(blockers[0].reason)


def _close_what_is_open(user: User) -> None:
    """What a suspension closes, with the same services and the same notices to the
    other members; only the reasons differ: the member left, nobody suspended them. The
    money a closed offer held returns to their wallet, which ``deletion_blockers``
    requires to be empty, so an offer with a postpaid fee held refuses the deletion
    (through the wallet's reason) rather than being closed here."""
    close_member_offers(user, reason="The member deleted their account.", actor_id=user.id,
                        closed=None)
    cancel_member_gigs(user.id, reason="Its poster deleted their account.",
                       actor_id=user.id, closed=GigClosed.CANCELLED)
    revoke_member_invites(user.id)


def _erase_traces(member_id: int, old_email: str) -> None:
    """What ``inventory.ERASED`` names beyond the profile and the ways in: signed-in
    devices, a password reset asked for their address, notifications and their
    settings, their address on invites (the one that brought them in, others' to it,
    theirs to others; the rows stay, as the invite tree), their referral clients'
    details, their drafts, the bank details of their withdrawals, and their name and
    address on messages to the admins."""
    session = db.session
    session.execute(delete(MemberSession).where(MemberSession.user_id == member_id)
                    .execution_options(synchronize_session=False))
    # a reset asked for their address and not answered yet: it would only find no one
    session.execute(delete(PasswordResetRequest)
                    .where(func.lower(PasswordResetRequest.email) == old_email.lower())
                    .execution_options(synchronize_session=False))
    erase_member_notifications(member_id)
    to_them = func.lower(Invite.email) == old_email.lower()
    # an invite still waiting at their address would sign them up again as someone new
    session.execute(update(Invite).where(to_them, Invite.state == InviteState.PENDING)
                    .values(state=InviteState.REVOKED, state_changed_at=utcnow())
                    .execution_options(synchronize_session=False))
    session.execute(update(Invite).where(or_(
        to_them, Invite.accepted_user_id == member_id, Invite.inviter_id == member_id))
        .values(email="").execution_options(synchronize_session=False))
    session.execute(delete(ClientDetails).where(ClientDetails.gig_id.in_(
        select(Gig.id).where(Gig.poster_id == member_id)))
        .execution_options(synchronize_session=False))
    # drafts were never seen by anyone, so they are no one's evidence: their text goes,
    # and their files (the rows stay, for their ids; a draft can't be deleted)
    drafts = Gig.poster_id == member_id, Gig.state == GigState.DRAFT
    user = session.get(User, member_id)
    for attachment in session.scalars(select(GigAttachment).join(Gig).where(*drafts)).all():
        remove_gig_attachment(attachment, actor=user)
    session.execute(update(Gig).where(*drafts)
                    .values(title=ERASED_TEXT, description="", skills_text="")
                    .execution_options(synchronize_session=False))
    session.execute(update(Withdrawal).where(Withdrawal.member_id == member_id)
                    .values(payout_details=ERASED_TEXT)
                    .execution_options(synchronize_session=False))
    session.execute(update(ContactMessage).where(ContactMessage.sender_id == member_id)
                    .values(name=placeholder_name(member_id),
                            email=placeholder_email(member_id))
                    .execution_options(synchronize_session=False))


def _erase_credentials(member_id: int) -> None:
    """Every way in other than the password: API tokens, the feed link, 2FA (the app's
    secret, backup codes, passkeys)."""
    revoke_member_feed_link(member_id)
    db.session.execute(delete(PersonalToken).where(PersonalToken.user_id == member_id)
                       .execution_options(synchronize_session=False))
    erase_second_factors(member_id)
