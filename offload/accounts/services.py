"""Account changes: creating members, log-in bookkeeping, confirmation, passwords, e-mail.

Every function is one transaction. Mails go through the outbox (``queue_email``),
so they are sent only if the change commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from offload.core.db import atomic, db, utcnow
from offload.core.errors import Conflict, Invalid, InvalidField
from offload.core.links import external_url
from offload.core.logs import log_digest
from offload.core.text import clean_text
from offload.core.tokens import TokenInvalid, fingerprint, hash_token, new_token, sign, unsign
from offload.core.zones import is_time_zone
from offload.ledger.idempotency import claim_key, record_outcome
from offload.notifications.queries import emails_queued_since
from offload.notifications.services import queue_email, wake_mail_worker

from .devices import current_session_id, end_member_sessions
from .lineage import add_to_branch_sizes, lock_tree
from .models import (
    PERSONAL_TOKEN_PREFIX,
    AccountType,
    PasswordResetRequest,
    PersonalToken,
    TokenScope,
    User,
    WorkRole,
    new_session_token,
)
from .passwords import check_new_password, hash_password, verify_password
from .queries import member_row

log = logging.getLogger("offload.accounts")

CONFIRM_PURPOSE = "confirm-email"
RESET_PURPOSE = "reset-password"


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_by_login(login: str) -> User | None:
    """The member with this username or e-mail address (case-insensitive)."""
    login = login.strip().lower()
    column = User.email if "@" in login else User.username
    return db.session.scalar(select(User).where(column == login))


def _check_available(username: str | None, email: str | None) -> None:
    # a pending e-mail change reserves nothing: its owner may still sign up with it
    # (the change is refused when its link is used)
    if username and db.session.scalar(select(func.count()).where(User.username == username)):
        raise Conflict("That username is taken.")
    if email and db.session.scalar(select(func.count()).where(User.email == email)):
        raise Conflict("An account with that e-mail address already exists.")


def create_member(*, username: str, email: str, password: str, display_name: str = "",
                  account_type: str = AccountType.INDIVIDUAL, organization_name: str = "",
                  work_role: str = WorkRole.BOTH, invited_by: User | None = None,
                  is_admin: bool = False, confirmed: bool = False,
                  time_zone: str = "UTC") -> User:
    """Create a member account (joins the caller's transaction).

    Refuses: taken username or e-mail, a weak password, an organization without a name,
    an unknown work role or time zone.
    Mails: a confirmation link unless ``confirmed``.
    """
    username, email = username.strip().lower(), normalize_email(email)
    check_new_password(password, username=username, email=email)
    if account_type == AccountType.ORGANIZATION and not organization_name.strip():
        raise Invalid("Give the organization's name.")
    role = _work_role(work_role)
    zone_name = _time_zone(time_zone)
    with atomic():
        _check_available(username, email)
        if invited_by is not None:
            lock_tree()  # before the insert: the branch sizes above it change with it
        user = User(username=username, email=email, password_hash=hash_password(password),
                    display_name=display_name.strip() or username,
                    account_type=AccountType(account_type), work_role=role,
                    time_zone=zone_name,
                    organization_name=(organization_name.strip() or None
                                       if account_type == AccountType.ORGANIZATION else None),
                    invited_by_id=invited_by.id if invited_by else None, is_admin=is_admin,
                    email_confirmed_at=utcnow() if confirmed else None)
        db.session.add(user)
        try:
            db.session.flush()
        except IntegrityError as e:  # a concurrent sign-up took the name first
            raise Conflict("That username or e-mail address was just taken.") from e
        if invited_by is not None:
            add_to_branch_sizes(invited_by.id, 1)
        if not confirmed:
            _queue_confirmation(user, user.email)
    return user


def _work_role(value: str) -> WorkRole:
    try:
        return WorkRole(value)
    except ValueError:
        raise InvalidField("work_role", "Choose what you mainly do: pass on work, take it "
                                        "on, or both.") from None


def set_work_role(user: User, work_role: str) -> None:
    """Record what the member mainly does (their dashboard leads with it; it limits nothing)."""
    role = _work_role(work_role)
    with atomic():
        member_row(user).work_role = role


def _time_zone(value: str) -> str:
    name = (value or "").strip()
    if not is_time_zone(name):
        raise InvalidField("time_zone", "Choose a time zone from the list, such as "
                                        "Europe/Paris or America/New_York.")
    return name


def set_time_zone(user: User, time_zone: str) -> None:
    """Record the zone the member's pages and e-mails show times in (an IANA name).

    Refuses: a name the zone database doesn't know. Times stay stored in UTC.
    """
    name = _time_zone(time_zone)
    with atomic():
        member_row(user).time_zone = name


def create_admin(*, username: str, email: str, password: str) -> User:
    """Create an admin: a root of the invite tree, confirmed, with no inviter."""
    with atomic():
        return create_member(username=username, email=email, password=password,
                             is_admin=True, confirmed=True)


def authenticate(login: str, password: str) -> User | None:
    """The member if the password matches; the same work is done for unknown names and
    for deleted accounts (whose password is gone: they never log in again)."""
    user = find_by_login(login)
    if user is not None and user.is_deleted:
        user = None
    if not verify_password(user.password_hash if user else None, password):
        log.warning("login failed", extra={"login_digest": log_digest(login)})
        return None
    return user


def record_login(user: User) -> None:
    with atomic():
        db.session.execute(update(User).where(User.id == user.id).values(last_login_at=utcnow()))
    log.info("login succeeded", extra={"user_id": user.id})


def end_all_sessions(user: User) -> None:
    """Rotate the session token: every session and remember cookie of the member stops working.

    State: every signed-in device of the member ended.
    """
    user = member_row(user)
    with atomic():
        db.session.execute(update(User).where(User.id == user.id)
                           .values(session_token=new_session_token()))
        end_member_sessions(user.id)
    db.session.refresh(user)


# --- e-mail confirmation ---------------------------------------------------------

def _queue_confirmation(user: User, address: str) -> None:
    token = sign(CONFIRM_PURPOSE, {"uid": user.id, "email": address})
    queue_email(address, "confirm_email", user=user, member=user,
                link=external_url("accounts.confirm_email", token=token))


def _mail_new_address(user: User, address: str) -> None:
    """Mail the address a member is changing to: a confirmation link, or, when another
    account uses it, a note saying so to its owner (the member is told the same either
    way, so the form never reveals who is registered)."""
    owner = db.session.scalar(select(User).where(User.email == address))
    if owner is None:
        _queue_confirmation(user, address)
    else:
        queue_email(address, "email_in_use", user=owner, member=owner)


def resend_confirmation(user: User) -> None:
    """Mail a fresh confirmation link (to the pending address if one is being changed to)."""
    with atomic():
        if user.pending_email:
            _mail_new_address(user, user.pending_email)
        elif not user.is_confirmed:
            _queue_confirmation(user, user.email)
        else:
            raise Conflict("Your e-mail address is already confirmed.")


def read_confirmation(token: str) -> tuple[User, str]:
    """Check a confirmation link without using it: the member and the address it confirms."""
    user, data = _token_user(
        CONFIRM_PURPOSE, token, "CONFIRM_MAX_AGE_SECONDS",
        expired="This confirmation link has expired. Log in and ask for a new one.",
        invalid="This confirmation link is not valid.")
    address = data.get("email")
    if user is None or address not in (user.email, user.pending_email):
        raise Invalid("This confirmation link is no longer valid.")
    if address == user.email and user.is_confirmed and not user.pending_email:
        raise Conflict("This address is already confirmed.")
    return user, address


def confirm_email(token: str) -> User:
    """Use a confirmation link once.

    State: e-mail confirmed; a pending new address replaces the old one.
    Refuses: bad, expired or already used links; an address taken in the meantime.
    """
    with atomic():
        user, address = read_confirmation(token)
        if address == user.pending_email:
            old = user.email
            user.email, user.pending_email = address, None
            try:  # the unique index decides, also between two changes confirmed at once
                db.session.flush()
            except IntegrityError as e:
                raise Conflict("Another account uses that address now.") from e
            queue_email(old, "email_changed", user=user, member=user, new_address=address)
        user.email_confirmed_at = utcnow()
    return user


# --- passwords ---------------------------------------------------------------------

def _reset_fingerprint(user: User) -> str:
    # bound to the current hash: once the password changes, the link is spent
    return fingerprint(str(user.id), user.password_hash)


def request_password_reset(email: str) -> None:
    """Ask for a reset link for ``email``: the same work whether or not a member has it.

    Writes: one PasswordResetRequest (and wakes the mail worker), nothing else: who owns
    the address is looked up by the worker (``resolve_password_resets``), off the
    request path, so the answer takes the same time and the same statements for a
    member's address as for any other.
    """
    with atomic() as session:
        session.add(PasswordResetRequest(email=normalize_email(email)[:254]))
        session.flush()
        wake_mail_worker()


@dataclass(frozen=True)
class ResetsResolved:
    handled: int  # requests taken off the table (whatever became of them)
    queued: int  # reset mails queued


def resolve_password_resets(*, limit: int = 100) -> ResetsResolved:
    """Turn up to ``limit`` waiting reset requests into reset mails, oldest first.

    Each request is one transaction: delete it (the claim: one another worker took is
    skipped), lock the member who has that address, and queue the reset mail unless
    RESET_MAILS_PER_ACCOUNT of them were queued for that member in the last
    RESET_MAILS_WINDOW_SECONDS (whatever addresses asked). A request for an unknown
    address (or a deleted account's placeholder), or one over the cap, ends there,
    silently: the asker was told the same.
    """
    config = current_app.config
    ids = list(db.session.scalars(select(PasswordResetRequest.id)
                                  .order_by(PasswordResetRequest.id).limit(limit)))
    handled = queued = 0
    for request_id in ids:
        with atomic() as session:
            address = session.scalar(delete(PasswordResetRequest)
                                     .where(PasswordResetRequest.id == request_id)
                                     .returning(PasswordResetRequest.email)
                                     .execution_options(synchronize_session=False))
            if address is None:
                continue  # another worker took it
            handled += 1
            # the row lock makes two workers count one member's mails one after the other
            user = session.scalar(select(User).where(User.email == address).with_for_update())
            if user is None or user.is_deleted:  # a deleted account has no way back in
                continue
            since = utcnow() - timedelta(seconds=config["RESET_MAILS_WINDOW_SECONDS"])
            if emails_queued_since(user.id, "reset_password", since) >= \
                    config["RESET_MAILS_PER_ACCOUNT"]:
                log.warning("reset mail not sent: the member's cap is reached",
                            extra={"user_id": user.id})
                continue
            token = sign(RESET_PURPOSE, {"uid": user.id, "fp": _reset_fingerprint(user)})
            queue_email(user.email, "reset_password", user=user, member=user,
                        link=external_url("accounts.reset_password", token=token),
                        minutes=config["RESET_MAX_AGE_SECONDS"] // 60)
            queued += 1
    return ResetsResolved(handled=handled, queued=queued)


def read_reset_token(token: str) -> User:
    user, data = _token_user(RESET_PURPOSE, token, "RESET_MAX_AGE_SECONDS",
                             expired="This reset link has expired. Ask for a new one.",
                             invalid="This reset link is not valid.")
    if user is None or data.get("fp") != _reset_fingerprint(user):
        raise Invalid("This reset link has already been used. Ask for a new one if you need it.")
    return user


def _token_user(purpose: str, token: str, max_age_key: str, *, expired: str,
                invalid: str) -> tuple[User | None, dict]:
    """The member a signed link names (None if gone) and what it carries; ``Invalid``
    with ``expired`` or ``invalid`` when the signature or its age refuses it."""
    try:
        data = unsign(purpose, token, current_app.config[max_age_key])
    except TokenInvalid as e:
        raise Invalid(expired if e.expired else invalid) from e
    return db.session.get(User, data.get("uid")), data


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from a reset link (single use) and end every session."""
    with atomic():
        user = read_reset_token(token)
        check_new_password(new_password, username=user.username, email=user.email)
        user.password_hash = hash_password(new_password)
        user.session_token = new_session_token()
        end_member_sessions(user.id)
        revoke_member_tokens(user.id)
        if not user.is_confirmed and not user.pending_email:
            user.email_confirmed_at = utcnow()  # the link proved the mailbox
    log.info("password reset", extra={"user_id": user.id})
    return user


def change_password(user: User, *, current_password: str, new_password: str) -> None:
    """Change the password after re-entering it; ends every session (the caller logs in
    again, as the same device: ``user``'s current one stays signed in)."""
    keep = current_session_id(user)
    user = member_row(user)
    if not verify_password(user.password_hash, current_password):
        raise Invalid("Your current password is not correct.")
    check_new_password(new_password, username=user.username, email=user.email)
    with atomic():
        user.password_hash = hash_password(new_password)
        user.session_token = new_session_token()
        end_member_sessions(user.id, keep=keep)
        revoke_member_tokens(user.id)
        queue_email(user.email, "password_changed", user=user, member=user)
    log.info("password changed", extra={"user_id": user.id})


def change_email(user: User, *, password: str, new_email: str) -> None:
    """Start an e-mail change after re-entering the password.

    The new address takes effect when its confirmation link is used; until then the
    old address stays in use. Whether another account uses the address is checked only
    then: a pending change reserves nothing, and the answer here is the same for every
    address.
    Mails: the new address, a confirmation link; or, if another account uses it, a note
    to that account saying someone tried (no link).
    """
    user = member_row(user)
    if not verify_password(user.password_hash, password):
        raise Invalid("Your password is not correct.")
    new_email = normalize_email(new_email)
    if new_email == user.email:
        raise Invalid("That is already your address.")
    with atomic():
        user.pending_email = new_email
        _mail_new_address(user, new_email)


# --- personal access tokens (the API) ---------------------------------------------------

TOKEN_NAME_MAX = 80
# last_used_at is written when it is older than this: a minute's precision is what the
# settings page shows, and a write per request would make every API call a transaction
TOKEN_USE_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewToken:
    token: PersonalToken
    secret: str  # shown to the member once; only its hash is stored


def create_personal_token(*, actor: User, name: str, scopes: list[str],
                          days: int, once_key: str | None = None) -> NewToken:
    """Make a personal access token for the API; the secret is in the answer only.

    ``once_key``: the form's one-time key (the settings form always sends one; the CLI
    and tests may go without).
    Refuses: a blank or long name, no scope or an unknown one, an expiry that isn't one
    of PERSONAL_TOKEN_DAYS, more than PERSONAL_TOKENS_MAX live tokens; ``once_key``
    already used (Conflict: the form was posted again; the secret is never shown twice).
    """
    name = clean_text("name", name, TOKEN_NAME_MAX, "The name", required=True)
    try:
        chosen = sorted({TokenScope(s) for s in scopes}, key=list(TokenScope).index)
    except ValueError:
        raise InvalidField("scopes", "Choose among the scopes listed.") from None
    if not chosen:
        raise InvalidField("scopes", "Choose at least one scope.")
    if days not in current_app.config["PERSONAL_TOKEN_DAYS"]:
        raise InvalidField("days", "Choose one of the expiries listed.")
    secret = PERSONAL_TOKEN_PREFIX + new_token()
    now = utcnow()
    with atomic() as session:
        session.execute(select(User.id).where(User.id == actor.id).with_for_update())
        if once_key is not None and claim_key(actor.id, once_key, {
                "op": "create_personal_token", "name": name,
                "scopes": [s.value for s in chosen], "days": days}) is not None:
            raise Conflict("That token was already created: it is in the list below. Its "
                           "secret was shown once, when it was made.")
        live = session.scalar(select(func.count()).where(
            PersonalToken.user_id == actor.id, PersonalToken.revoked_at.is_(None),
            PersonalToken.expires_at > now))
        if live >= current_app.config["PERSONAL_TOKENS_MAX"]:
            raise Conflict(f"You have {live} tokens already: revoke one you no longer use.")
        token = PersonalToken(user_id=actor.id, name=name,
                              scopes=" ".join(s.value for s in chosen),
                              token_hash=hash_token(secret), hint=secret[-4:],
                              created_at=now, expires_at=now + timedelta(days=days))
        session.add(token)
        session.flush()
        if once_key is not None:
            record_outcome(actor.id, once_key, {"personal_token_id": token.id})
    log.info("personal token created", extra={"user_id": actor.id, "token_id": token.id})
    return NewToken(token=token, secret=secret)


def revoke_personal_token(token_id: int, *, actor: User) -> None:
    """Revoke one of the member's tokens: it stops working at once.

    Refuses: a token already revoked (Conflict). The caller loads it through
    ``queries.personal_token_for`` (another member's token is a 404 there).
    """
    with atomic() as session:
        changed = session.execute(
            update(PersonalToken).where(PersonalToken.id == token_id,
                                        PersonalToken.user_id == actor.id,
                                        PersonalToken.revoked_at.is_(None))
            .values(revoked_at=utcnow()).execution_options(synchronize_session=False)
        ).rowcount
        if changed != 1:
            raise Conflict("That token is already revoked.")
    log.info("personal token revoked", extra={"user_id": actor.id, "token_id": token_id})


# The member's other credentials, revoked with their tokens: the feed link. Feeds sit
# above accounts, so ``create_app`` installs the function (``install_feed_revoker``).
_revoke_feed_link: Callable[[int], object] | None = None


def install_feed_revoker(revoke: Callable[[int], object]) -> None:
    global _revoke_feed_link
    _revoke_feed_link = revoke


def revoke_member_tokens(member_id: int) -> int:
    """Revoke every live token of the member, and their feed link (a password change or
    reset, a suspension); how many tokens. Joins the caller's transaction."""
    if _revoke_feed_link is None:
        raise RuntimeError("No feed-link revoker installed: create_app() installs it.")
    with atomic() as session:
        _revoke_feed_link(member_id)
        return session.execute(
            update(PersonalToken).where(PersonalToken.user_id == member_id,
                                        PersonalToken.revoked_at.is_(None))
            .values(revoked_at=utcnow()).execution_options(synchronize_session=False)
        ).rowcount


def record_token_use(token_id: int) -> None:
    """Note that the token was used now, unless that was noted less than a minute ago
    (a guarded UPDATE: of two requests at once, one writes)."""
    now = utcnow()
    with atomic() as session:
        session.execute(
            update(PersonalToken).where(
                PersonalToken.id == token_id,
                (PersonalToken.last_used_at.is_(None))
                | (PersonalToken.last_used_at <= now - TOKEN_USE_PRECISION))
            .values(last_used_at=now).execution_options(synchronize_session=False))
