"""Passkeys (WebAuthn, the ``webauthn`` library): a second way to give the second factor,
beside the TOTP app's code.

A member adds passkeys once two-factor log-in is on, and they go with it: turning 2FA
off, or an admin's reset, deletes them (``two_factor.erase_second_factors``). So a
passkey never stands alone: whoever loses every passkey still has the app and the
backup codes, and the site keeps one notion of "2FA is on" (the TOTP row).

Ceremonies: the server draws a challenge and hands the browser its options
(``*_options``); the browser's answer comes back with the challenge, which the entry
point kept in the session as a token signed for the ceremony's purpose and member
(``Ceremony``), valid WEBAUTHN_CHALLENGE_SECONDS. The relying party's id and origin
are WEBAUTHN_RP_ID and WEBAUTHN_ORIGIN, taken from CANONICAL_URL when empty
(development only: production refuses to start without them). The user handle the
authenticator keeps is 64 bytes derived with the site's secret (``user_handle``), never
the member's id or name.

Single use: a registration's answer makes a credential whose id is unique, so it can't
be registered twice. An assertion is accepted by a guarded UPDATE on its passkey that
needs the challenge to have been issued after the passkey's last use and the sign
count to be the one read: a replayed answer (the session cookie of the time kept with
it) finds the passkey used since, and of two requests with one answer, one wins. The
authenticator's counter must grow, unless it is zero on both sides (synced passkeys
keep no counter); a smaller one means a cloned authenticator or a replay.

Mails (outbox, security mail): a passkey added, a passkey removed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, func, select, update
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import parse_authentication_credential_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from offload.core.db import atomic, db, utcnow
from offload.core.errors import Conflict, InvalidField
from offload.core.text import clean_text
from offload.core.tokens import TokenInvalid, sign, unsign
from offload.notifications.services import queue_email

from .models import Passkey, TwoFactor, User
from .queries import member_row

log = logging.getLogger("offload.accounts")

NAME_MAX = 80
REGISTER, AUTHENTICATE = "passkey-register", "passkey-authenticate"
_TRANSPORTS = {t.value for t in AuthenticatorTransport}
REFUSED = "That passkey was not accepted. Try again, or use the code from your app."


# --- the relying party and the ceremony's challenge ---------------------------------

def relying_party() -> tuple[str, str]:
    """The relying party's id and the origin browsers report: configured, or (in
    development) CANONICAL_URL's host and origin."""
    canonical = urlsplit(current_app.config["CANONICAL_URL"])
    rp_id = current_app.config["WEBAUTHN_RP_ID"] or canonical.hostname or "localhost"
    origin = current_app.config["WEBAUTHN_ORIGIN"] or f"{canonical.scheme}://{canonical.netloc}"
    return rp_id, origin.rstrip("/")


@dataclass(frozen=True)
class Ceremony:
    """What the browser is handed (``options``, JSON) and what the entry point keeps
    until the answer comes (``token``: the challenge, signed for its purpose and member,
    with the time it was issued)."""

    options: str
    token: str


def _ceremony(purpose: str, member_id: int, options) -> Ceremony:
    challenge = base64.urlsafe_b64encode(options.challenge).decode().rstrip("=")
    return Ceremony(options_to_json(options),
                    sign(purpose, {"c": challenge, "uid": member_id, "t": time.time()}))


def _challenge(purpose: str, token: str | None, member_id: int) -> tuple[bytes, datetime]:
    """The challenge a ceremony's token holds, and when it was issued.

    Refuses (InvalidField "passkey"): no token, another purpose's or member's, a forged
    or expired one.
    """
    try:
        data = unsign(purpose, token or "", current_app.config["WEBAUTHN_CHALLENGE_SECONDS"])
    except TokenInvalid as e:
        raise InvalidField("passkey", "That took too long: try the passkey again."
                           if e.expired else REFUSED) from e
    if not isinstance(data, dict) or data.get("uid") != member_id:
        raise InvalidField("passkey", REFUSED)
    challenge = str(data.get("c", ""))
    issued = datetime.fromtimestamp(float(data.get("t", 0)), UTC)
    return base64.urlsafe_b64decode(challenge + "=" * (-len(challenge) % 4)), issued


def _descriptors(member_id: int) -> list[PublicKeyCredentialDescriptor]:
    rows = db.session.execute(select(Passkey.credential_id, Passkey.transports)
                              .where(Passkey.user_id == member_id).order_by(Passkey.id))
    return [PublicKeyCredentialDescriptor(
        id=credential_id, transports=[AuthenticatorTransport(t) for t in transports.split()
                                      if t in _TRANSPORTS]) for credential_id, transports in rows]


# --- adding and removing ---------------------------------------------------------------

def user_handle(member_id: int) -> bytes:
    """The member's WebAuthn user handle: 64 bytes that identify no one.

    WebAuthn advises 64 random bytes kept with the account; these are derived instead
    (HMAC-SHA-512 of the member's id with SECRET_KEY), which is as unpredictable to
    anyone without the secret and needs no column. Nothing here reads a handle back
    (an assertion is matched by its credential id among the member's), so a new
    SECRET_KEY changes the handle of passkeys added later and nothing else.
    """
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"offload.webauthn-user-handle\x1f{member_id}".encode(),
                    hashlib.sha512).digest()


def passkey_registration_options(member: User) -> Ceremony:
    """The options of a registration ceremony for the member (no state changes): their
    passkeys excluded (an authenticator holds one of theirs at most), a discoverable
    credential preferred, user verification preferred."""
    user = member_row(member)
    rp_id, _ = relying_party()
    options = generate_registration_options(
        rp_id=rp_id, rp_name=current_app.config["SITE_NAME"], user_name=user.username,
        user_id=user_handle(user.id), user_display_name=user.name,
        exclude_credentials=_descriptors(user.id),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED))
    return _ceremony(REGISTER, user.id, options)


def add_passkey(*, actor: User, name: str, credential: str, ceremony: str | None) -> Passkey:
    """Keep the passkey the browser made in answer to ``ceremony``'s options.

    State: a new Passkey (its credential id, public key, counter and transports).
    Mails: "passkey_added".
    Refuses: 2FA off (Conflict: passkeys come after the app); PASSKEYS_MAX already
    (Conflict); a blank or long name (InvalidField "name"); an answer the library
    refuses, for another challenge, origin or relying party, or an expired ceremony
    (InvalidField "passkey"); a credential already registered (Conflict).
    """
    user = member_row(actor)
    name = clean_text("name", name, NAME_MAX, "The name", required=True)
    challenge, _ = _challenge(REGISTER, ceremony, user.id)
    rp_id, origin = relying_party()
    try:
        verified = verify_registration_response(
            credential=credential or "", expected_challenge=challenge, expected_rp_id=rp_id,
            expected_origin=origin)
    except (WebAuthnException, ValueError, KeyError, TypeError) as e:
        log.warning("passkey registration refused", extra={"user_id": user.id,
                                                             "why": str(e)[:200]})
        raise InvalidField("passkey", "Your browser's answer was not accepted: try adding "
                                      "the passkey again.") from e
    transports = " ".join(t for t in _transports_of(credential) if t in _TRANSPORTS)
    with atomic() as session:
        on = session.scalar(select(TwoFactor.enabled_at).where(TwoFactor.user_id == user.id)
                            .with_for_update())
        if on is None:
            raise Conflict("Turn on two-factor authentication with an app first: a passkey "
                           "is a second way to give it.")
        count = session.scalar(select(func.count()).select_from(Passkey)
                               .where(Passkey.user_id == user.id))
        if count >= current_app.config["PASSKEYS_MAX"]:
            raise Conflict(f"You have {count} passkeys, the most one account may have: "
                           "remove one first.")
        if session.scalar(select(Passkey.id).where(
                Passkey.credential_id == verified.credential_id)) is not None:
            raise Conflict("That passkey is registered already.")
        passkey = Passkey(user_id=user.id, credential_id=verified.credential_id,
                          public_key=verified.credential_public_key,
                          sign_count=verified.sign_count, transports=transports, name=name)
        session.add(passkey)
        session.flush()
        queue_email(user.email, "passkey_added", user=user, member=user, name=name)
    log.info("passkey added", extra={"user_id": user.id, "passkey_id": passkey.id})
    return passkey


def _transports_of(credential: str) -> list[str]:
    try:
        found = json.loads(credential)["response"].get("transports") or []
    except (ValueError, KeyError, TypeError, AttributeError):
        return []
    return [str(t) for t in found][:8] if isinstance(found, list) else []


def remove_passkey(passkey_id: int, *, actor: User) -> None:
    """Delete one of the actor's passkeys (the entry point has asked for a fresh second
    factor first).

    Mails: "passkey_removed".
    Refuses: a passkey that is not the actor's, or gone (Conflict).
    """
    user = member_row(actor)
    with atomic():
        name = db.session.scalar(select(Passkey.name).where(
            Passkey.id == passkey_id, Passkey.user_id == user.id))
        gone = db.session.execute(delete(Passkey).where(
            Passkey.id == passkey_id, Passkey.user_id == user.id)
            .execution_options(synchronize_session=False)).rowcount
        if gone != 1:
            raise Conflict("That passkey is removed already.")
        queue_email(user.email, "passkey_removed", user=user, member=user, name=name)
    log.info("passkey removed", extra={"user_id": user.id, "passkey_id": passkey_id})


# --- using one -------------------------------------------------------------------------

def passkey_authentication_options(member: User) -> Ceremony:
    """The options of an authentication ceremony with the member's passkeys (no state
    changes; no passkeys: an empty list the browser will find nothing for)."""
    rp_id, _ = relying_party()
    options = generate_authentication_options(
        rp_id=rp_id, allow_credentials=_descriptors(member.id),
        user_verification=UserVerificationRequirement.PREFERRED)
    return _ceremony(AUTHENTICATE, member.id, options)


def check_passkey(member: User, credential: str, ceremony: str | None) -> Passkey:
    """Accept an assertion of one of the member's passkeys, once.

    State: the passkey's sign count and ``last_used_at`` (which spends every challenge
    issued before it).
    Refuses (InvalidField "passkey"): an expired or foreign ceremony; a credential that
    isn't one of the member's; an answer for another challenge, origin or relying party,
    or with a bad signature; a counter that did not grow; an answer already used.
    """
    challenge, issued = _challenge(AUTHENTICATE, ceremony, member.id)
    try:
        raw_id = parse_authentication_credential_json(credential or "").raw_id
    except (WebAuthnException, ValueError, KeyError, TypeError) as e:
        raise InvalidField("passkey", REFUSED) from e
    passkey = db.session.scalar(select(Passkey).where(
        Passkey.user_id == member.id, Passkey.credential_id == raw_id)
        .execution_options(populate_existing=True))
    if passkey is None:
        raise InvalidField("passkey", "That passkey is not one of this account's.")
    rp_id, origin = relying_party()
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp_id,
            expected_origin=origin, credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count)
    except (WebAuthnException, ValueError, KeyError, TypeError) as e:
        log.warning("passkey refused", extra={"user_id": member.id, "passkey_id": passkey.id,
                                              "why": str(e)[:200]})
        raise InvalidField("passkey", REFUSED) from e
    with atomic():
        used = (Passkey.last_used_at.is_(None)) | (Passkey.last_used_at < issued)
        changed = db.session.execute(
            update(Passkey).where(Passkey.id == passkey.id, used,
                                  Passkey.sign_count == passkey.sign_count)
            .values(sign_count=verified.new_sign_count, last_used_at=utcnow())
            .execution_options(synchronize_session=False)).rowcount
        if changed != 1:
            raise InvalidField("passkey", "That passkey answer was used already: try again.")
    log.info("passkey used", extra={"user_id": member.id, "passkey_id": passkey.id})
    return passkey
