"""Reading members: the signed-in member as a small read model for every request, and
the one lookup by username that pages, admin and the CLI share (``member_named``).

Every logged-in page asks who the member is, what the top bar shows (name, admin link,
the unread badges) and whether they may be here (confirmed, suspended, session token).
``signed_in(member_id, token)`` answers all of it with one statement on ``users``, built
once with bound parameters and run as Core (no ORM set-up, no identity map), into
``SignedIn``, which Flask-Login takes as its user. The notifications' badge is a
counter column on the row; the messages' badge is an exact count on a partial index,
a subquery of the same statement (``install_unread_messages``: why no counter is in
``offload.conversations``' design note).

Views pass ``current_user`` to services as ``actor=``. Services read ``actor.id`` and
the flags (``is_admin``, ``is_confirmed``, ``name``), which ``SignedIn`` carries; any
other column (a password hash, a pending address) is read from the ORM row, loaded on
first use, and a service that changes the member works on that row
(``member_row(actor)``).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, Select, bindparam, func, select
from werkzeug.exceptions import NotFound

from offload.core.db import db, utcnow
from offload.core.tokens import hash_token

from .models import (
    PERSONAL_TOKEN_PREFIX,
    BackupCode,
    MemberSession,
    Passkey,
    PersonalToken,
    TwoFactor,
    User,
    WorkRole,
)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The signed-in member as every page needs them (Flask-Login's user interface)."""

    id: int
    username: str
    display_name: str
    email: str
    account_type: str
    organization_name: str | None
    work_role: str
    is_admin: bool
    is_confirmed: bool
    session_token: str
    unread_notifications: int
    unread_messages: int
    # the ORM row once a service asked for it (``entity``): held here, as the session
    # holds an unchanged row only weakly
    _row: list[User] = field(default_factory=list, init=False, repr=False, compare=False)
    # an admin whose admin powers don't count in this request (``without_admin_powers``):
    # ``is_admin`` is then False, so every policy and service treats them as a member
    admin_withheld: bool = False
    # the signed-in device (``accounts.devices``): its row, when it was last noted as
    # seen, and the secret the browser's session carries (kept in ``get_id``, so a
    # log-in again in this request, after a password change, stays this device)
    member_session_id: int | None = None
    session_seen_at: datetime | None = None
    session_secret: str | None = field(default=None, repr=False)
    # the IANA zone the member's pages show times in (core.zones)
    time_zone: str = "UTC"

    # Flask-Login: a loaded member is logged in and active (suspended ones never load)
    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_suspended = False

    def get_id(self) -> str:
        """``id:session_token:device secret``; a token rotated in this request (a
        password change, which logs this session in again) is read from the row."""
        token = self._row[0].session_token if self._row else self.session_token
        return f"{self.id}:{token}:{self.session_secret}" if self.session_secret else (
            f"{self.id}:{token}")

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @property
    def is_admin_account(self) -> bool:
        """An admin, whether or not their powers count in this request."""
        return self.is_admin or self.admin_withheld

    @property
    def work(self) -> WorkRole:
        return WorkRole(self.work_role)

    @property
    def entity(self) -> User:
        """The member's ORM row, loaded on first use."""
        if not self._row:
            self._row.append(db.session.get(User, self.id))
        return self._row[0]

    def __getattr__(self, name: str) -> Any:
        # only for the columns not carried here, read by the few services that need them
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.entity, name)


_COLUMNS = ("id", "username", "display_name", "email", "account_type", "organization_name",
            "work_role", "is_admin")

# The unread messages of the member (``member_id``), as a statement of one count.
# Conversations sit above accounts: ``create_app`` installs it (install_unread_messages).
_unread_messages: Callable[[], Select] | None = None


def install_unread_messages(statement: Callable[[], Select]) -> None:
    global _unread_messages
    _unread_messages = statement
    _signed_in_statement.cache_clear()


@lru_cache(maxsize=2)
def _signed_in_statement(with_device: bool) -> Select:
    if _unread_messages is None:
        raise RuntimeError("No unread-messages count installed: create_app() installs it.")
    users = User.__table__
    statement = (select(*(users.c[name] for name in _COLUMNS),
                        users.c.email_confirmed_at.is_not(None).label("is_confirmed"),
                        users.c.session_token, users.c.unread_notifications,
                        users.c.time_zone,
                        _unread_messages().scalar_subquery().label("unread_messages"))
                 .where(users.c.id == bindparam("member_id", type_=Integer),
                        users.c.suspended_at.is_(None), users.c.deleted_at.is_(None)))
    if not with_device:
        return statement
    # the device's live row, joined: an ended (or unknown) session finds no row
    sessions = MemberSession.__table__
    return (statement.add_columns(sessions.c.id.label("member_session_id"),
                                  sessions.c.last_seen_at.label("seen_at"))
            .join(sessions, (sessions.c.user_id == users.c.id)
                  & (sessions.c.secret_hash == bindparam("secret_hash"))
                  & sessions.c.ended_at.is_(None)))


def signed_in(member_id: int, token: str, secret: str | None = None) -> SignedIn | None:
    """The member whose session carries ``member_id:token``, or None (no such member, a
    rotated token, suspended, deleted); one statement. With a device ``secret`` (a browser's
    session), also None unless it names a live ``MemberSession`` of the member."""
    params = {"member_id": member_id}
    if secret is not None:
        params["secret_hash"] = hash_token(secret)
    row = db.session.connection().execute(_signed_in_statement(secret is not None),
                                          params).first()
    if row is None or not hmac.compare_digest(row.session_token.encode(), token.encode()):
        return None
    device = {"member_session_id": row.member_session_id, "session_seen_at": row.seen_at,
              "session_secret": secret} if secret is not None else {}
    return SignedIn(*row[:8], bool(row.is_confirmed), *row[9:11], row.unread_messages or 0,
                    time_zone=row.time_zone, **device)


def without_admin_powers(member: SignedIn) -> SignedIn:
    """The admin as a plain member (``is_admin`` False, ``admin_withheld`` True): what the
    entry points answer while TWO_FACTOR_REQUIRED_FOR_ADMINS withholds their powers."""
    if not member.is_admin:
        return member
    return replace(member, is_admin=False, admin_withheld=True)


def member_row(member: User | SignedIn) -> User:
    """The ORM row of ``member``, for a service that changes it: itself, or the row of
    the signed-in member's read model."""
    return member if isinstance(member, User) else member.entity


def member_named(username: str | None) -> User | None:
    """The member with that username, typed with or without "@", in any case; None for
    a name no member has (and for a blank one).

    Any member, listed or not: whoever may see an unlisted (unconfirmed or suspended)
    member decides that after the lookup, as the moderation log and admin pages must
    find suspended members by name.
    """
    name = (username or "").strip().lstrip("@").lower()
    return db.session.scalar(select(User).where(User.username == name)) if name else None


# --- personal access tokens -------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TokenItem:
    """A personal access token as the settings page lists it (never its secret)."""

    id: int
    name: str
    scopes: tuple[str, ...]
    hint: str  # the secret's last four characters
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= utcnow()


@dataclass(frozen=True, slots=True)
class TokenHolder:
    """Who an API request's bearer token speaks for, and what it may do."""

    token_id: int
    member: SignedIn
    scopes: frozenset[str]
    last_used_at: datetime | None


_tokens = PersonalToken.__table__
_TOKEN_ITEM = (_tokens.c.id, _tokens.c.name, _tokens.c.scopes, _tokens.c.hint,
               _tokens.c.created_at, _tokens.c.expires_at, _tokens.c.last_used_at)
_HOLDER = (select(_tokens.c.id, _tokens.c.user_id, _tokens.c.scopes, _tokens.c.token_hash,
                  _tokens.c.last_used_at, User.__table__.c.session_token)
           .join(User.__table__, User.__table__.c.id == _tokens.c.user_id)
           .where(_tokens.c.token_hash == bindparam("token_hash"),
                  _tokens.c.revoked_at.is_(None), _tokens.c.expires_at > bindparam("now")))


def _token_item(row) -> TokenItem:
    return TokenItem(row.id, row.name, tuple(row.scopes.split()), row.hint, row.created_at,
                     row.expires_at, row.last_used_at)


def personal_tokens_of(member_id: int) -> list[TokenItem]:
    """The member's tokens not revoked (expired ones too, until revoked), newest first."""
    rows = db.session.connection().execute(
        select(*_TOKEN_ITEM).where(_tokens.c.user_id == member_id, _tokens.c.revoked_at.is_(None))
        .order_by(_tokens.c.created_at.desc(), _tokens.c.id.desc()))
    return [_token_item(row) for row in rows]


def personal_token_for(member: User | SignedIn, token_id: int) -> TokenItem:
    """The member's own token, not revoked; NotFound for anyone else's."""
    row = db.session.connection().execute(
        select(*_TOKEN_ITEM).where(_tokens.c.id == token_id, _tokens.c.user_id == member.id,
                                   _tokens.c.revoked_at.is_(None))).first()
    if row is None:
        raise NotFound()
    return _token_item(row)


def token_holder(secret: str) -> TokenHolder | None:
    """The member a bearer token speaks for, or None: no such token, revoked, expired,
    its member suspended. Two statements: the token (by the unique index on its hash),
    then the signed-in member as a page gets them."""
    if not secret.startswith(PERSONAL_TOKEN_PREFIX) or len(secret) > 128:
        return None
    digest = hash_token(secret)
    row = db.session.connection().execute(
        _HOLDER, {"token_hash": digest, "now": utcnow()}).first()
    # found by the index; compared in constant time all the same
    if row is None or not hmac.compare_digest(row.token_hash.encode(), digest.encode()):
        return None
    member = signed_in(row.user_id, row.session_token)
    if member is None:  # suspended
        return None
    return TokenHolder(row.id, member, frozenset(row.scopes.split()), row.last_used_at)


# --- two-factor log-in ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TwoFactorStatus:
    """A member's two-factor log-in as the settings page and the entry points see it."""

    enabled_at: datetime | None
    is_pending: bool  # a set-up waiting for its first code
    backup_codes_left: int

    @property
    def is_on(self) -> bool:
        return self.enabled_at is not None


_two_factors, _backup_codes = TwoFactor.__table__, BackupCode.__table__
_TWO_FACTOR_STATUS = (
    select(_two_factors.c.enabled_at,
           select(func.count()).where(_backup_codes.c.user_id == bindparam("member_id"),
                                      _backup_codes.c.used_at.is_(None))
           .scalar_subquery().label("left"))
    .where(_two_factors.c.user_id == bindparam("member_id")))


def two_factor_status(member_id: int) -> TwoFactorStatus:
    """The member's 2FA: off (no row), waiting for its first code, or on; one statement."""
    row = db.session.connection().execute(_TWO_FACTOR_STATUS, {"member_id": member_id}).first()
    if row is None:
        return TwoFactorStatus(None, False, 0)
    return TwoFactorStatus(row.enabled_at, row.enabled_at is None, row.left)


# --- passkeys --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PasskeyItem:
    """One of the member's passkeys as the two-factor page lists it."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None


def passkeys_of(member_id: int) -> list[PasskeyItem]:
    """The member's passkeys, oldest first."""
    return [PasskeyItem(*row) for row in db.session.execute(
        select(Passkey.id, Passkey.name, Passkey.created_at, Passkey.last_used_at)
        .where(Passkey.user_id == member_id).order_by(Passkey.id))]


def has_passkeys(member_id: int) -> bool:
    return db.session.scalar(select(Passkey.id).where(Passkey.user_id == member_id)
                             .limit(1)) is not None


def passkey_for(member, passkey_id: int) -> PasskeyItem:
    """``member``'s passkey ``passkey_id``; NotFound for anyone else's."""
    row = db.session.execute(
        select(Passkey.id, Passkey.name, Passkey.created_at, Passkey.last_used_at)
        .where(Passkey.id == passkey_id, Passkey.user_id == member.id)).first()
    if row is None:
        raise NotFound()
    return PasskeyItem(*row)


# --- signed-in devices ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DeviceItem:
    """A signed-in device as the sessions page lists it."""

    id: int
    browser: str
    os: str
    address: str
    created_at: datetime
    last_seen_at: datetime
    is_current: bool


def signed_in_devices(member_id: int, current_id: int | None,
                      *, within: timedelta) -> list[DeviceItem]:
    """The member's live sessions seen within ``within`` (older ones' cookies have
    expired), the current one first, then the most recently seen."""
    rows = db.session.execute(
        select(MemberSession.id, MemberSession.browser, MemberSession.os,
               MemberSession.address, MemberSession.created_at, MemberSession.last_seen_at)
        .where(MemberSession.user_id == member_id, MemberSession.ended_at.is_(None),
               MemberSession.last_seen_at > utcnow() - within)
        .order_by(MemberSession.last_seen_at.desc(), MemberSession.id.desc())).all()
    items = [DeviceItem(*row, is_current=row.id == current_id) for row in rows]
    return sorted(items, key=lambda item: not item.is_current)


def member_session_for(member, member_session_id: int) -> int:
    """The id of ``member``'s live session ``member_session_id``; NotFound for anyone
    else's, and for one already ended."""
    found = db.session.scalar(select(MemberSession.id).where(
        MemberSession.id == member_session_id, MemberSession.user_id == member.id,
        MemberSession.ended_at.is_(None)))
    if found is None:
        raise NotFound()
    return found
