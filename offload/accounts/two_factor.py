"""Two-factor log-in: a TOTP app (RFC 6238, 30-second steps, 6 digits) and ten
one-time backup codes.

Set-up: ``begin_two_factor`` draws a secret and keeps it pending (``TwoFactor`` with
``enabled_at`` NULL); ``enable_two_factor`` turns it on when the member types a correct
code from their app, and answers the backup codes, the only time they exist in clear.

Codes: ``check_code`` accepts the code of the current step or of one step either side
(clocks drift), and only for a step later than the last one accepted
(``last_used_step``, moved by a guarded UPDATE: of two requests with the same code, one
wins), so a code seen once can't be used again. A backup code (anything that isn't six
digits) is looked up among the member's unused ones by its keyed hash and spent by a
guarded UPDATE. Backup codes are 49 random bits, not passwords a member chose: a slow
password hash adds nothing against guessing them, and made each attempt cost ten
scrypt runs. They are stored as HMAC-SHA-256 under a key derived from SECRET_KEY
(``backup_code_hash``), so a copy of the database alone can't test guesses either.

The secret at rest: Fernet (AES-128-CBC with an HMAC) under a key derived from
SECRET_KEY by HKDF (``seal``/``unseal``), so a copy of the database without the
configuration gives no codes. Changing SECRET_KEY makes every stored secret and backup
code unusable: members with 2FA then can't pass the code step, and nothing in the
site or the CLI turns it off for them (their TwoFactor and BackupCode rows must be
deleted by hand). Before this, backup codes were scrypt hashes; the feature has not
been released, so no such rows exist outside development databases, where they no
longer match (turn 2FA off and on again).

The log-in's second step is ``complete_login`` (or ``complete_login_with_passkey``,
for a member who added passkeys: ``passkeys``): a signed, short-lived token from the
password step (``start_login``) bound to the member's last log-in, so it is spent once
the log-in it started happens. Whether a code was entered recently (admin decisions,
large withdrawals) is a matter of the session, so the entry points keep it
(``accounts.step_up``); the services here only check codes.

Turning 2FA off deletes the member's passkeys with the app's secret: passkeys are a
second way to give the same factor, never the only one.

Mails (outbox): 2FA turned on, turned off, backup codes regenerated; wrong log-in codes
typed after the right password (``warn_of_refused_codes``).
"""

from __future__ import annotations

import base64
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from functools import cache

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from sqlalchemy import delete, select, update

from offload.core.db import atomic, db, utcnow
from offload.core.errors import Conflict, Invalid, InvalidField, NotAllowed
from offload.core.tokens import TokenInvalid, fingerprint, sign, unsign
from offload.notifications.services import queue_email

from .devices import current_session_id, end_member_sessions
from .models import BackupCode, Passkey, TwoFactor, User, new_session_token
from .passkeys import check_passkey
from .passwords import verify_password
from .queries import member_row

log = logging.getLogger("offload.accounts")

LOGIN_PURPOSE = "two-factor-login"
STEP_SECONDS = 30
# letters and digits that can't be mistaken for each other when copied from paper
_BACKUP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_BACKUP_LENGTH = 10  # 10 characters of 31: 49 bits, shown as two groups of five


# --- the secret at rest ----------------------------------------------------------------

@cache
def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"offload two-factor secrets").derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


@cache
def _backup_key(secret_key: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"offload backup codes").derive(secret_key.encode())


def backup_code_hash(code: str) -> str:
    """The stored form of a backup code, typed in any case, with or without the dash."""
    typed = _normal_backup(code)
    return hmac.new(_backup_key(current_app.config["SECRET_KEY"]), typed.encode(),
                    "sha256").hexdigest()


def seal(secret: str) -> str:
    return _fernet(current_app.config["SECRET_KEY"]).encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str | None:
    """The secret, or None when it was sealed under another SECRET_KEY."""
    try:
        return _fernet(current_app.config["SECRET_KEY"]).decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None


def provisioning_uri(secret: str, member: User) -> str:
    """The ``otpauth://`` address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=member.username,
                                               issuer_name=current_app.config["SITE_NAME"])


# --- codes -----------------------------------------------------------------------------

def _now() -> float:
    return time.time()


def _digits(code: str) -> str:
    return "".join((code or "").split())


def _is_app_code(code: str) -> bool:
    typed = _digits(code)
    return len(typed) == 6 and typed.isascii() and typed.isdigit()


def _normal_backup(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _matching_step(secret: str, code: str, now: float) -> int | None:
    totp, current = pyotp.TOTP(secret), int(now) // STEP_SECONDS
    typed = _digits(code)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), typed):
            return step
    return None


def new_backup_codes(n: int) -> list[str]:
    codes = ["".join(secrets.choice(_BACKUP_ALPHABET) for _ in range(_BACKUP_LENGTH))
             for _ in range(n)]
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def _use_app_code(member_id: int, sealed: str, code: str, *, pending: bool = False) -> None:
    """Accept a six-digit code once (joins the caller's transaction)."""
    secret = unseal(sealed)
    step = _matching_step(secret, code, _now()) if secret else None
    if step is None:
        raise InvalidField("code", "That code is not right. Check that your phone's clock "
                                   "is set automatically and type the code shown now.")
    enabled = TwoFactor.enabled_at.is_(None) if pending else TwoFactor.enabled_at.is_not(None)
    changed = db.session.execute(
        update(TwoFactor).where(TwoFactor.user_id == member_id, enabled,
                                (TwoFactor.last_used_step.is_(None))
                                | (TwoFactor.last_used_step < step))
        .values(last_used_step=step).execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise InvalidField("code", "That code was already used. Wait for your app to show "
                                   "the next one.")


def _matching_backup_code(member_id: int, code: str) -> int | None:
    """The id of the member's unused backup code equal to ``code`` (read, no lock: the
    guarded UPDATE that spends it decides between two requests)."""
    if len(_normal_backup(code)) != _BACKUP_LENGTH:
        return None
    return db.session.scalar(select(BackupCode.id).where(
        BackupCode.user_id == member_id, BackupCode.used_at.is_(None),
        BackupCode.code_hash == backup_code_hash(code)))


def _use_backup_code(code_id: int | None) -> None:
    if code_id is None:
        raise InvalidField("code", "That backup code is not right, or it was used already: "
                                   "each one works once.")
    changed = db.session.execute(
        update(BackupCode).where(BackupCode.id == code_id, BackupCode.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise InvalidField("code", "That backup code was used already: each one works once.")


def _two_factor(member_id: int, *, lock: bool = False) -> TwoFactor | None:
    statement = select(TwoFactor).where(TwoFactor.user_id == member_id)
    if lock:
        statement = statement.with_for_update()
    return db.session.scalar(statement.execution_options(populate_existing=True))


def check_code(member: User, code: str) -> str:
    """Accept a code of the member's 2FA: six digits from the app, or a backup code.

    State: the app code's step recorded as used, or the backup code spent.
    Answers "app" or "backup" (which was used).
    Refuses (InvalidField "code"): no 2FA on; a wrong code; a code already used.
    """
    row = _two_factor(member.id)
    if row is None or row.enabled_at is None:
        raise InvalidField("code", "Two-factor authentication is not on for this account.")
    if _is_app_code(code):
        with atomic():
            _use_app_code(member.id, row.secret, code)
        return "app"
    code_id = _matching_backup_code(member.id, code)
    with atomic():
        _use_backup_code(code_id)
    log.info("backup code used", extra={"user_id": member.id})
    return "backup"


# --- set-up, backup codes, turning off ---------------------------------------------------

@dataclass(frozen=True)
class PendingSetUp:
    secret: str  # shown for manual entry
    uri: str  # what the QR code says


def begin_two_factor(*, actor: User) -> None:
    """Draw a new secret and keep it pending until a code from the app confirms it.

    State: the member's pending TwoFactor row (a pending one is replaced).
    Refuses: 2FA already on (Conflict).
    """
    with atomic() as session:
        row = _two_factor(actor.id, lock=True)
        if row is not None and row.enabled_at is not None:
            raise Conflict("Two-factor authentication is already on.")
        sealed = seal(pyotp.random_base32())
        if row is None:
            session.add(TwoFactor(user_id=actor.id, secret=sealed))
        else:
            row.secret, row.last_used_step, row.created_at = sealed, None, utcnow()


def pending_set_up(member: User) -> PendingSetUp | None:
    """The pending secret to show on the set-up page, or None (none, or already on)."""
    row = _two_factor(member.id)
    if row is None or row.enabled_at is not None:
        return None
    secret = unseal(row.secret)
    if secret is None:
        return None
    return PendingSetUp(secret=secret, uri=provisioning_uri(secret, member_row(member)))


def enable_two_factor(*, actor: User, code: str) -> list[str]:
    """Turn 2FA on with a first correct code from the app; answers the backup codes.

    State: TwoFactor enabled, its step used; TWO_FACTOR_BACKUP_CODES new backup codes
    (keyed hashes; the clear codes are only in the answer); the session token rotated, so
    every session and remember cookie of the member ends (a session someone else
    started with the password alone must not outlive the new requirement; the caller
    logs its own session in again, as after a password change).
    Mails: "two-factor turned on".
    Refuses: no pending set-up (Conflict); a wrong code (InvalidField "code").
    """
    codes = new_backup_codes(current_app.config["TWO_FACTOR_BACKUP_CODES"])
    hashes_ = [backup_code_hash(c) for c in codes]
    with atomic():
        row = _two_factor(actor.id, lock=True)
        if row is None or row.enabled_at is not None:
            raise Conflict("Start the set-up again: there is no set-up waiting for a code.")
        _use_app_code(actor.id, row.secret, code, pending=True)
        row.enabled_at = utcnow()
        _replace_backup_codes(actor.id, hashes_)
        user = member_row(actor)
        user.session_token = new_session_token()
        end_member_sessions(actor.id, keep=current_session_id(actor))
        queue_email(user.email, "two_factor_enabled", user=user, member=user)
    log.info("two-factor enabled", extra={"user_id": actor.id})
    return codes


def _replace_backup_codes(member_id: int, hashes_: list[str]) -> None:
    db.session.execute(delete(BackupCode).where(BackupCode.user_id == member_id))
    db.session.add_all(BackupCode(user_id=member_id, code_hash=h) for h in hashes_)
    db.session.flush()


def regenerate_backup_codes(*, actor: User, code: str) -> list[str]:
    """Replace the member's backup codes with new ones; answers them (shown once).

    Needs a code of the second factor (the app's, or a backup code, which is spent),
    not the password alone: new codes are a way in, and the password is what a thief
    of a session (or of the password) is likeliest to have.
    State: the code used; every old backup code deleted (used or not); new ones stored
    hashed.
    Mails: "backup codes regenerated".
    Refuses: 2FA off (Conflict); a wrong or used code (InvalidField "code").
    """
    if _two_factor_on(actor.id) is False:
        raise Conflict("Two-factor authentication is not on.")
    check_code(actor, code)
    codes = new_backup_codes(current_app.config["TWO_FACTOR_BACKUP_CODES"])
    hashes_ = [backup_code_hash(c) for c in codes]
    with atomic():
        _replace_backup_codes(actor.id, hashes_)
        user = member_row(actor)
        queue_email(user.email, "backup_codes_regenerated", user=user, member=user)
    log.info("backup codes regenerated", extra={"user_id": actor.id})
    return codes


def _two_factor_on(member_id: int) -> bool:
    row = _two_factor(member_id)
    return row is not None and row.enabled_at is not None


def disable_two_factor(*, actor: User, password: str, code: str) -> None:
    """Turn 2FA off with the password and a code (the app's or a backup code).

    State: the TwoFactor row, every backup code and every passkey deleted.
    Mails: "two-factor turned off".
    Refuses: admins, who must keep it (NotAllowed); 2FA off (Conflict); a wrong
    password (InvalidField "password"); a wrong code (InvalidField "code").
    """
    # the row's flag: an admin whose powers are withheld in this request is still one
    if member_row(actor).is_admin and current_app.config["TWO_FACTOR_REQUIRED_FOR_ADMINS"]:
        raise NotAllowed("Admins must keep two-factor authentication on.")
    if not _two_factor_on(actor.id):
        raise Conflict("Two-factor authentication is already off.")
    if not verify_password(member_row(actor).password_hash, password or ""):
        raise InvalidField("password", "Your password is not correct.")
    check_code(actor, code)
    with atomic():
        erase_second_factors(actor.id)
        user = member_row(actor)
        queue_email(user.email, "two_factor_disabled", user=user, member=user)
    log.info("two-factor disabled", extra={"user_id": actor.id})


def erase_second_factors(member_id: int) -> None:
    """Delete every second factor of the member: the app's secret (on or pending), the
    backup codes and the passkeys (which exist only beside the app: ``passkeys``).
    Joins the caller's transaction; mails nobody (the caller says why it happened:
    turned off, reset by an admin)."""
    for model in (Passkey, BackupCode, TwoFactor):
        db.session.execute(delete(model).where(model.user_id == member_id))


# --- the log-in's second step ----------------------------------------------------------

def _login_fingerprint(user: User) -> str:
    # spent by the log-in it starts (last_login_at moves) or a password change
    return fingerprint(str(user.id), user.session_token, str(user.last_login_at))


def start_login(user: User) -> str:
    """The signed token of a correct password, for the code step (no state changes)."""
    return sign(LOGIN_PURPOSE, {"uid": user.id, "fp": _login_fingerprint(user),
                                "n": secrets.token_urlsafe(8)})


def pending_login(token: str | None) -> User:
    """The member whose password step ``token`` is, while it may still be completed.

    Refuses (Invalid): no token, a forged or expired one, one already used.
    """
    if not token:
        raise Invalid("Log in with your password first.")
    try:
        data = unsign(LOGIN_PURPOSE, token, current_app.config["TWO_FACTOR_LOGIN_SECONDS"])
    except TokenInvalid as e:
        raise Invalid("That log-in took too long: enter your password again."
                      if e.expired else "Log in with your password first.") from e
    user = db.session.get(User, data.get("uid"))
    if user is None or user.is_suspended or data.get("fp") != _login_fingerprint(user):
        raise Invalid("That log-in is over: enter your password again.")
    return user


def complete_login(token: str | None, code: str) -> User:
    """The second step of a log-in: a code from the app or a backup code.

    State: the code used (``check_code``); the member's ``last_login_at``, which spends
    the token (single use).
    Refuses: a token ``pending_login`` refuses (Invalid); a wrong or used code
    (InvalidField "code").
    """
    user = pending_login(token)
    try:
        used = check_code(user, code)
    except InvalidField:
        log.warning("login code refused", extra={"user_id": user.id})
        raise
    return _logged_in(user, used)


def complete_login_with_passkey(token: str | None, credential: str,
                                ceremony: str | None) -> User:
    """The second step of a log-in with a passkey instead of a code.

    State: the passkey's counter and last use (``passkeys.check_passkey``); the
    member's ``last_login_at``, which spends the token.
    Refuses: a token ``pending_login`` refuses (Invalid); an assertion ``check_passkey``
    refuses (InvalidField "passkey").
    """
    user = pending_login(token)
    try:
        check_passkey(user, credential, ceremony)
    except InvalidField:
        log.warning("login passkey refused", extra={"user_id": user.id})
        raise
    return _logged_in(user, "passkey")


def _logged_in(user: User, used: str) -> User:
    with atomic():
        # guarded: of two requests with one token (and two good codes), one logs in
        changed = db.session.execute(
            update(User).where(User.id == user.id,
                               User.last_login_at.is_(None) if user.last_login_at is None
                               else User.last_login_at == user.last_login_at)
            .values(last_login_at=utcnow()).execution_options(synchronize_session=False)
        ).rowcount
        if changed != 1:
            raise Invalid("That log-in is over: enter your password again.")
    db.session.refresh(user)
    log.info("login succeeded", extra={"user_id": user.id, "second_factor": used})
    return user


def warn_of_refused_codes(member_id: int) -> None:
    """Tell the member that wrong log-in codes were typed after their right password
    (the log-in's code step counts them per account and calls this once a window).

    Mails: "two_factor_codes_refused" (someone knows the password: change it).
    """
    with atomic():
        user = db.session.get(User, member_id)
        if user is None:
            return
        queue_email(user.email, "two_factor_codes_refused", user=user, member=user)
    log.warning("login codes refused repeatedly", extra={"user_id": member_id})


def pending_member_id(token: str | None) -> int | None:
    """Whose password step ``token`` is, read from its signature alone (for counting
    wrong codes per account: no database, no expiry check)."""
    try:
        return unsign(LOGIN_PURPOSE, token or "", 10 * 365 * 86400).get("uid")
    except (TokenInvalid, AttributeError):
        return None
