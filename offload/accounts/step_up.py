"""Asking for the second factor again, at the entry points (as ``decorators`` do).

When a code was last entered is a fact about this session, not about the member, so it
is kept in the session (signed: a member can't move it): set by the log-in's code step,
by the "re-enter your code" page and by turning 2FA on. A passkey used at either of
those steps counts as a code entered (``accounts.passkeys``), except for adding a
passkey: that needs a code from the app or a backup code given lately
(``CODE_FRESH_KEY``), so a passkey never vouches for another, and the thief of a session
or remember-me cookie can't add their own authenticator and then pass every step-up
(and later log-ins) with it. An admin decision (any POST
under /admin) and a withdrawal above TWO_FACTOR_STEP_UP_MINOR need it to be less than
TWO_FACTOR_FRESH_MINUTES old when the member has 2FA on; an admin without 2FA is sent
to set it up while TWO_FACTOR_REQUIRED_FOR_ADMINS is on.

Admin powers outside /admin (cancelling another member's gig, revoking an invite,
reading another member's deposit): while TWO_FACTOR_REQUIRED_FOR_ADMINS is on, the user
loader hands an admin in as a plain member (``admin_powers_count``) until the session has
passed the second factor, and for a POST unless the code is fresh. Such a POST is not
held for the code page as /admin's are: which POSTs use admin power is known only to the
service, after the view has run, so a stale admin is refused as any member would be
and re-enters the code (the admin area, or the code page) to act as admin again.

A POST refused for want of a fresh code answers the "re-enter your code" page, carrying
what was posted in hidden fields, passwords left out (they are never written back into
a page). The code is checked there, and a 307 sends the same fields back to where they
were posted: the decision goes through as if nothing had stopped it, or, when it needed
a password, its page shows the form again with the rest kept.
"""

from __future__ import annotations

import time

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from .forms import ConfirmCodeForm, PasskeyConfirmForm
from .models import TokenScope
from .queries import has_passkeys, two_factor_status

FRESH_KEY = "two_factor_at"  # the second factor, given by code or passkey
CODE_FRESH_KEY = "two_factor_code_at"  # given by the app's code or a backup code


def mark_code_entered(*, by_passkey: bool = False) -> None:
    now = int(time.time())
    session[FRESH_KEY] = now
    if not by_passkey:
        session[CODE_FRESH_KEY] = now


def code_is_fresh(*, code_only: bool = False) -> bool:
    """Whether the second factor was given lately (``code_only``: by a code, not a
    passkey)."""
    entered = session.get(CODE_FRESH_KEY if code_only else FRESH_KEY)
    return isinstance(entered, int) and \
        time.time() - entered < current_app.config["TWO_FACTOR_FRESH_MINUTES"] * 60


def replay_fields() -> list[tuple[str, str]]:
    """What was posted, to post again after the code: not the code page's own fields,
    nor any password."""
    return [(name, value) for name, value in request.form.items(multi=True)
            if not name.startswith("two_factor-") and "password" not in name.lower()]


def ask_for_code(why: str, *, passkey_will_do: bool = True):
    """The "re-enter your code" page, in answer to a POST it holds back (403)."""
    form = ConfirmCodeForm(formdata=None, data={"next": request.path})
    password_left_out = any("password" in name.lower() for name in request.form)
    offer = passkey_confirm(request.path) if passkey_will_do else {"passkey_form": None}
    return render_template("accounts/confirm_code.html", form=form, why=why,
                           replay=replay_fields(), password_left_out=password_left_out,
                           **offer), 403


def passkey_confirm(next_url: str | None, form: PasskeyConfirmForm | None = None) -> dict:
    """What the "re-enter your code" page needs to offer a passkey instead (nothing for
    a member without passkeys)."""
    if not has_passkeys(current_user.id):
        return {"passkey_form": None}
    return {"passkey_form": form or PasskeyConfirmForm(formdata=None,
                                                       data={"next": next_url})}


def _unsafe_method() -> bool:
    return request.method not in ("GET", "HEAD", "OPTIONS")


def passed_second_factor() -> bool:
    """Whether this session has been through the second factor (log-in's code step, the
    set-up's first code, or the "re-enter your code" page): the session starts empty at
    log-in, so a remember-me cookie's new session has not."""
    return isinstance(session.get(FRESH_KEY), int)


def admin_powers_count() -> bool:
    """Whether a signed-in admin's admin powers count in this request (the user loader
    asks): with TWO_FACTOR_REQUIRED_FOR_ADMINS on, only once this session has passed the
    second factor, and for a POST only with a code entered lately. Until then the admin
    is a plain member everywhere (``accounts.queries.without_admin_powers``), so a page
    or service outside /admin that lets admins act or see more refuses them as it
    refuses any member; their own things are theirs as before."""
    if not current_app.config["TWO_FACTOR_REQUIRED_FOR_ADMINS"]:
        return True
    return passed_second_factor() and (not _unsafe_method() or code_is_fresh())


def admin_second_factor():
    """The admin area's guard (``admin.blueprint``): None lets the request through.

    An admin account (even one whose powers are withheld in this request) without 2FA
    is sent to set it up; with 2FA but a session that hasn't passed it (a remember-me
    cookie), to the code page; a POST without a code entered lately gets the code page.
    """
    if not (current_user.is_authenticated and current_user.is_admin_account):
        return None  # admin_required answers 404
    if not current_app.config["TWO_FACTOR_REQUIRED_FOR_ADMINS"] \
            and not two_factor_status(current_user.id).is_on:
        return None
    if not two_factor_status(current_user.id).is_on:
        return redirect(url_for("accounts.two_factor"))
    if _unsafe_method() and not code_is_fresh():
        return ask_for_code("An admin decision needs a code from your app entered in the "
                            f"last {current_app.config['TWO_FACTOR_FRESH_MINUTES']} minutes.")
    if not passed_second_factor():
        return redirect(url_for("accounts.confirm_code", next=request.full_path.rstrip("?")))
    return None


def step_up_for_amount(amount_minor: int | None):
    """For a money POST: the code page when the amount is above TWO_FACTOR_STEP_UP_MINOR,
    the member has 2FA on and hasn't entered a code lately; else None."""
    limit = current_app.config["TWO_FACTOR_STEP_UP_MINOR"]
    if amount_minor is None or amount_minor <= limit or code_is_fresh() \
            or not two_factor_status(current_user.id).is_on:
        return None
    return ask_for_code("Moving this much money out needs a code from your app entered in "
                        f"the last {current_app.config['TWO_FACTOR_FRESH_MINUTES']} minutes.")


def step_up_for_wallet_token(scopes: list[str] | None):
    """For a new personal token: the code page when it would have the ``wallet`` scope,
    the member has 2FA on and hasn't entered a code lately; else None. Such a token
    moves money through the API with no second factor behind it, so making one needs
    the code, as a large withdrawal on the site does."""
    if TokenScope.WALLET.value not in (scopes or []) or code_is_fresh() \
            or not two_factor_status(current_user.id).is_on:
        return None
    return ask_for_code("A token that may move money needs a code from your app entered "
                        f"in the last {current_app.config['TWO_FACTOR_FRESH_MINUTES']} "
                        "minutes.")


def step_up_for_passkey_removal():
    """For removing a passkey: the code page unless a code (or a passkey) was entered
    lately; else None. A passkey is a way in: taking one away from a session alone
    would let a thief of the session remove the owner's, as making backup codes needs
    a code."""
    if code_is_fresh() or not two_factor_status(current_user.id).is_on:
        return None
    return ask_for_code("Removing a passkey needs a code from your app, or a passkey, "
                        f"in the last {current_app.config['TWO_FACTOR_FRESH_MINUTES']} "
                        "minutes.")


def code_needed_for_new_passkey() -> str | None:
    """Why adding a passkey is refused in this session, or None: it needs a code from the
    app or a backup code given in the last TWO_FACTOR_FRESH_MINUTES (a passkey won't do:
    it would vouch for the next one) once the member has 2FA on (until then the service
    refuses the passkey anyway)."""
    if code_is_fresh(code_only=True) or not two_factor_status(current_user.id).is_on:
        return None
    return ("Adding a passkey needs a code from your app, or a backup code, entered in the "
            f"last {current_app.config['TWO_FACTOR_FRESH_MINUTES']} minutes.")


def step_up_for_new_passkey():
    """For adding a passkey: the code page (without the passkey option) unless a code
    was given lately (``code_needed_for_new_passkey``); else None."""
    if why := code_needed_for_new_passkey():
        return ask_for_code(why, passkey_will_do=False)
    return None


def send_back(next_url: str, replay: bool):
    """After the code: the held-back POST again (307 keeps its method and body), or the
    page the member was sent from."""
    flash("Thank you: your code is accepted.", "success")
    return redirect(next_url, code=307 if replay else 302)
