"""The member. Profile details live in ``offload.profiles``; invites in ``offload.invites``."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from offload.core.db import db, utcnow


class AccountType(StrEnum):
    INDIVIDUAL = "individual"
    ORGANIZATION = "organization"


class WorkRole(StrEnum):
    """What a member mainly does here. It orders their dashboard and is shown on their
    profile and in member search; it limits nothing: everyone may post and take gigs."""

    PASS_ON = "pass_on"  # has more client work than time: posts gigs
    TAKE_ON = "take_on"  # takes on others' work: makes offers, performs projects
    BOTH = "both"

    @property
    def label(self) -> str:
        """The choice as the member makes it (sign-up and settings)."""
        return {"pass_on": "I mainly pass on work: I have more client work than time",
                "take_on": "I mainly take on work: I do projects other members pass on",
                "both": "Both: I pass on work and take it on"}[self.value]

    @property
    def describes(self) -> str:
        """The line on the member's profile."""
        return {"pass_on": "Mainly passes on work", "take_on": "Mainly takes on work",
                "both": "Passes on work and takes it on"}[self.value]

    @property
    def passes_on(self) -> bool:
        return self in (WorkRole.PASS_ON, WorkRole.BOTH)

    @property
    def takes_on(self) -> bool:
        return self in (WorkRole.TAKE_ON, WorkRole.BOTH)


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("account_type IN ('individual', 'organization')", name="account_type"),
        CheckConstraint("account_type = 'individual' OR organization_name IS NOT NULL",
                        name="organization_named"),
        CheckConstraint("work_role IN ('pass_on', 'take_on', 'both')", name="work_role"),
        # the suspended few (the tree explorer tallies them per branch)
        Index("ix_users_suspended", "id", sqlite_where=text("suspended_at IS NOT NULL"),
              postgresql_where=text("suspended_at IS NOT NULL")),
        CheckConstraint("unread_notifications >= 0", name="unread_notifications_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # stored lower-case; uniqueness is case-insensitive by construction
    username: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    pending_email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(80))
    account_type: Mapped[str] = mapped_column(String(16), default=AccountType.INDIVIDUAL)
    organization_name: Mapped[str | None] = mapped_column(String(120))
    # what the member mainly does (WorkRole); members from before it was asked do both
    work_role: Mapped[str] = mapped_column(String(16), default=WorkRole.BOTH,
                                           server_default=WorkRole.BOTH.value)
    is_admin: Mapped[bool] = mapped_column(default=False)
    # the IANA zone pages and e-mails show this member's times in (core.zones); guessed
    # from the browser at sign-up, changed in the settings. Times are stored in UTC.
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    email_confirmed_at: Mapped[datetime | None]
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    last_login_at: Mapped[datetime | None]
    # set while suspended (by a case's resolution): no log-in, no sessions
    suspended_at: Mapped[datetime | None]
    # set when the member deleted their account (``privacy.services.delete_account``):
    # the row stays, anonymised, for the ledger, the messages, the reviews and the
    # invite tree; it never logs in or loads again
    deleted_at: Mapped[datetime | None]
    # how many members this one invited were suspended (kept through reparents: the
    # record stays with whoever vouched for them)
    invitees_suspended: Mapped[int] = mapped_column(default=0, server_default="0")
    # how many members are below this one in the invite tree (accounts.lineage keeps it)
    branch_size: Mapped[int] = mapped_column(default=0, server_default="0")
    # projects this member completed as the performer (projects.lifecycle keeps it)
    projects_completed: Mapped[int] = mapped_column(default=0, server_default="0")
    # the top bar's notification badge, kept as a counter so a page view reads it with
    # the member's row (accounts.queries.signed_in). notifications.services changes it,
    # only by ``n = n + k`` in the transaction that writes or marks the notifications;
    # the counter check (offload.health) compares it with a COUNT of the unread rows.
    unread_notifications: Mapped[int] = mapped_column(default=0, server_default="0")

    invited_by: Mapped[User | None] = relationship(remote_side=[id], lazy="raise")

    # Flask-Login: the id carries the session token so rotating it logs out everywhere
    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_admin_account(self) -> bool:
        """As ``SignedIn.is_admin_account``: the row's flag (its powers are never
        withheld; the read model's are)."""
        return self.is_admin

    @property
    def work(self) -> WorkRole:
        """What the member mainly does, as the enum (``work_role`` is its stored value)."""
        return WorkRole(self.work_role)

    @property
    def name(self) -> str:
        return self.display_name or self.username

    def __repr__(self) -> str:
        return f"<User {self.id} {self.username}>"


# What a list needs to show a member by name with a link to their profile (``name``):
# loading only these for each row's sender or actor halves a conversation page's loading.
NAME_COLUMNS = (User.id, User.username, User.display_name)


class PasswordResetRequest(db.Model):
    """A password reset asked for an address, not yet looked at.

    The reset form writes one of these for every address it is given, known or not,
    and nothing else, so its answer takes the same work whoever asks. The mail worker
    takes each row (deleting it is the claim), looks the address up and queues the
    mail, or nothing (``accounts.services.resolve_password_resets``). Rows live seconds:
    typed addresses are not kept.
    """

    __tablename__ = "password_reset_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class TokenScope(StrEnum):
    """What a personal access token may do over the API (``offload.api``)."""

    READ = "read"  # every GET, and marking one's own notifications read
    OFFERS = "offers"
    PROJECTS = "projects"
    WALLET = "wallet"

    @property
    def label(self) -> str:
        return {"read": "Read: the board, gigs, your account and notifications",
                "offers": "Offers: make, change and withdraw offers",
                "projects": "Projects: timelines and milestones",
                "wallet": "Wallet: balances, history and deposits"}[self.value]


# what every personal access token starts with, so a leaked one is recognisable (secret
# scanners, logs) and told apart from the other tokens of the site
PERSONAL_TOKEN_PREFIX = "offload_pat_"


class PersonalToken(db.Model):
    """A member's personal access token for the API.

    Only the SHA-256 of the secret is kept (the secret has 256 random bits, so a plain
    hash is as good as a slow one); the member sees the secret once, when it is made.
    ``hint`` is its last four characters, for telling tokens apart in the list. A token
    works while it is neither revoked nor expired and its member is not suspended;
    changing or resetting the password, and a suspension, revoke them all
    (``accounts.services.revoke_member_tokens``). ``last_used_at`` is written at most
    once a minute per token (``record_token_use``), never on every request.
    """

    __tablename__ = "personal_tokens"
    __table_args__ = (
        CheckConstraint("scopes <> ''", name="scopes_not_empty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    scopes: Mapped[str] = mapped_column(String(64))  # TokenScope values, space-separated
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    expires_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class TwoFactor(db.Model):
    """A member's TOTP second factor (``accounts.two_factor`` says how it is used).

    One row per member at most. ``enabled_at`` is NULL while the set-up waits for a
    first correct code (the secret is then pending: a new set-up replaces it); once
    set, a log-in needs a code. ``secret`` is the base32 TOTP secret encrypted with
    Fernet under a key derived from SECRET_KEY (``two_factor.seal``): a copy of the
    database alone does not give the codes. ``last_used_step`` is the 30-second time
    step of the last code accepted: a code is accepted only for a later step, so one
    seen over a shoulder can't be used again.
    """

    __tablename__ = "two_factors"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    secret: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    enabled_at: Mapped[datetime | None]
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)


class BackupCode(db.Model):
    """A one-time backup code for log-in without the app, shown to the member once;
    ``code_hash`` is its HMAC-SHA-256 under a key derived from SECRET_KEY
    (``two_factor.backup_code_hash``: 49 random bits need no slow hash). ``used_at``
    set: spent.
    Regenerating deletes the member's codes and makes ten new ones."""

    __tablename__ = "backup_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    used_at: Mapped[datetime | None]


class Passkey(db.Model):
    """A WebAuthn credential of the member's: a second way to give the second factor
    (``accounts.passkeys`` says how it is used). A member has passkeys only while their
    TOTP is on; turning 2FA off or an admin's reset deletes them.

    ``credential_id`` is the authenticator's id for it (unique across the site: two
    accounts can't register one credential), ``public_key`` its COSE public key.
    ``sign_count`` is the authenticator's counter as last seen: an assertion must bring
    a larger one (unless both are zero, as synced passkeys keep them), or it is a
    cloned authenticator's or a replay. ``last_used_at`` spends every challenge issued
    before it (a guarded UPDATE), so an assertion is accepted once.
    ``transports`` are the browser's hints (``usb``, ``internal``, ...), space-separated.
    """

    __tablename__ = "passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1023), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(1023))
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    transports: Mapped[str] = mapped_column(String(200), default="", server_default="")
    name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    last_used_at: Mapped[datetime | None]


class MemberSession(db.Model):
    """One signed-in device of a member: a log-in, until it is logged out.

    The browser's Flask session (and its remember cookie) carries a random secret
    beside ``id:session_token``; only its SHA-256 is kept here (``secret_hash``: 256
    random bits need no slow hash). The user loader finds the member and this row in
    one statement and refuses the session once ``ended_at`` is set: "log out this one"
    and "log out everywhere else" set it, as do log-out, a password change or reset,
    two-factor set-up and a suspension (which also rotate ``users.session_token``).
    ``browser`` and ``os`` are parsed from ``user_agent`` at log-in
    (``accounts.devices.describe_device``); ``address`` is the request's remote
    address as the proxy configuration gives it. ``last_seen_at`` is written at most
    once every SESSION_SEEN_EVERY_SECONDS (``touch_member_session``), never on every
    request.
    """

    __tablename__ = "member_sessions"
    __table_args__ = (
        # the sessions page lists a member's live ones; new-device checks read them all
        Index("ix_member_sessions_user_id", "user_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_agent: Mapped[str] = mapped_column(String(255), default="", server_default="")
    browser: Mapped[str] = mapped_column(String(40))
    os: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(45), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    ended_at: Mapped[datetime | None]
