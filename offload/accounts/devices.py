"""Signed-in devices: each log-in is a ``MemberSession`` row the member can see and end.

A log-in starts one (``start_member_session``) and hands its secret to the entry point,
which keeps it in the Flask session beside ``id:session_token`` (so the remember cookie
carries it too); the user loader refuses a session whose row is ended. A log-in from a
browser and system the member never signed in with before mails them, unless it is
their very first recorded log-in (nothing to compare with: a new member, or the first
log-in since devices were recorded).

The browser and system come from the User-Agent by a few substring rules
(``describe_device``): enough to tell "Firefox on Windows" from "Safari on iOS" for a
person, not a fingerprint; no parser library for that.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import exists, select, update

from offload.core.db import atomic, db, utcnow
from offload.core.errors import Invalid
from offload.core.tokens import hash_token
from offload.notifications.services import queue_email

from .models import MemberSession, User
from .queries import SignedIn

log = logging.getLogger(__name__)

# checked in order: Edge and Opera say "Chrome" too, Chrome says "Safari"
_BROWSERS = (("Edg/", "Edge"), ("EdgA/", "Edge"), ("EdgiOS/", "Edge"), ("OPR/", "Opera"),
             ("SamsungBrowser/", "Samsung Internet"), ("Firefox/", "Firefox"),
             ("FxiOS/", "Firefox"), ("CriOS/", "Chrome"), ("Chromium/", "Chromium"),
             ("Chrome/", "Chrome"), ("Safari/", "Safari"))
_SYSTEMS = (("iPhone", "iOS"), ("iPad", "iOS"), ("Android", "Android"), ("CrOS", "ChromeOS"),
            ("Windows", "Windows"), ("Mac OS X", "macOS"), ("Macintosh", "macOS"),
            ("Linux", "Linux"))
_HEADLESS = re.compile(r"Headless(?=Chrome/)")


def describe_device(user_agent: str) -> tuple[str, str]:
    """The browser family and operating system a User-Agent names, as a person says
    them ("Firefox", "Windows"); "Unknown browser" / "unknown system" otherwise."""
    agent = _HEADLESS.sub("", user_agent or "")
    browser = next((name for mark, name in _BROWSERS if mark in agent), "Unknown browser")
    system = next((name for mark, name in _SYSTEMS if mark in agent), "unknown system")
    return browser, system


def start_member_session(user: User, *, user_agent: str, address: str) -> str:
    """Record a log-in on this device; the secret the browser's session keeps.

    Writes: one live MemberSession.
    Mails: "new_sign_in" when the member had signed in before, never with this browser
    and system.
    """
    secret = secrets.token_urlsafe(32)
    browser, system = describe_device(user_agent)
    with atomic():
        earlier = select(MemberSession.id).where(MemberSession.user_id == user.id)
        seen_before = db.session.scalar(select(exists(earlier)))
        known = db.session.scalar(select(exists(earlier.where(
            MemberSession.browser == browser, MemberSession.os == system))))
        row = MemberSession(user_id=user.id, secret_hash=hash_token(secret),
                            user_agent=(user_agent or "")[:255], browser=browser, os=system,
                            address=(address or "")[:45])
        db.session.add(row)
        db.session.flush()
        if seen_before and not known:
            queue_email(user.email, "new_sign_in", user=user, member=user,
                        device=f"{browser} on {system}", address=row.address,
                        at=row.created_at)
    log.info("session started", extra={"user_id": user.id, "member_session_id": row.id})
    return secret


def touch_member_session(member_session_id: int) -> None:
    """Note that the device was seen now, unless that was noted less than
    SESSION_SEEN_EVERY_SECONDS ago (a guarded UPDATE: of two requests at once, one writes)."""
    now = utcnow()
    every = timedelta(seconds=current_app.config["SESSION_SEEN_EVERY_SECONDS"])
    with atomic():
        db.session.execute(
            update(MemberSession).where(MemberSession.id == member_session_id,
                                        MemberSession.last_seen_at <= now - every)
            .values(last_seen_at=now).execution_options(synchronize_session=False))


def current_session_id(member: User | SignedIn) -> int | None:
    """The device ``member`` acts from: the signed-in read model's session, None for an
    ORM row (the CLI, a job, a log-in not finished)."""
    return member.member_session_id if isinstance(member, SignedIn) else None


def end_member_sessions(member_id: int, *, keep: int | None = None) -> int:
    """End every live session of the member but ``keep``; how many ended. Joins the
    caller's transaction (log-out, password change or reset, suspension)."""
    now = utcnow()
    with atomic():
        return db.session.execute(
            update(MemberSession).where(MemberSession.user_id == member_id,
                                        MemberSession.ended_at.is_(None),
                                        MemberSession.id != (keep or 0))
            .values(ended_at=now).execution_options(synchronize_session=False)).rowcount


def end_member_session(member_session_id: int, *, actor: User | SignedIn) -> None:
    """Log out one of the actor's other devices: its next request is logged out.

    State: that session ended (already ended: nothing changes).
    Raises: Invalid for the actor's own current device (that is "Log out").
    The caller has loaded the row with ``member_session_for`` (404 for anyone else's).
    """
    if member_session_id == current_session_id(actor):
        raise Invalid("This is the device you are using: log out instead.")
    with atomic():
        db.session.execute(
            update(MemberSession).where(MemberSession.id == member_session_id,
                                        MemberSession.user_id == actor.id,
                                        MemberSession.ended_at.is_(None))
            .values(ended_at=utcnow()).execution_options(synchronize_session=False))
    log.info("session ended", extra={"user_id": actor.id, "member_session_id": member_session_id})


def end_other_member_sessions(*, actor: User | SignedIn) -> int:
    """Log out every device of the actor but the one they use; how many were logged out.

    State: the actor's other live sessions ended; this one goes on.
    """
    ended = end_member_sessions(actor.id, keep=current_session_id(actor))
    log.info("other sessions ended", extra={"user_id": actor.id, "count": ended})
    return ended
