"""Password rules (shared/security.md): length only, and not one of the most common."""

from __future__ import annotations

from functools import cache

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from offload.core.errors import Invalid


@cache
def _dummy_hash(method: str) -> str:
    """Checked against when the account does not exist, so both paths cost one hash."""
    return generate_password_hash("offload-dummy-password-for-timing", method=method)


@cache
def _common(limit: int) -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"][:limit])


def password_problem(password: str, *, username: str = "", email: str = "") -> str | None:
    """Why the password is refused, or None if it is acceptable."""
    cfg = current_app.config
    if len(password) < cfg["PASSWORD_MIN_LENGTH"]:
        return f"Use at least {cfg['PASSWORD_MIN_LENGTH']} characters."
    if len(password) > cfg["PASSWORD_MAX_LENGTH"]:
        return f"Use at most {cfg['PASSWORD_MAX_LENGTH']} characters."
    lowered = password.lower()
    if lowered in _common(cfg["COMMON_PASSWORDS_REFUSED"]) or len(set(lowered)) < 3:
        return "That password is one of the most common ones; choose another."
    if username and lowered == username.lower():
        return "Your password can't be your username."
    if email and lowered == email.lower():
        return "Your password can't be your e-mail address."
    return None


def check_new_password(password: str, *, username: str = "", email: str = "") -> None:
    problem = password_problem(password, username=username, email=email)
    if problem:
        raise Invalid(problem)


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def verify_password(password_hash: str | None, password: str) -> bool:
    """Compare in constant work: an unknown account still costs one hash check."""
    if password_hash is None:
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        return False
    return check_password_hash(password_hash, password)
