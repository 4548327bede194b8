"""The one way a view runs a posted form: validate it, make the one service call, and
either say it is done and redirect, or show the form again as it was sent, with why it
was refused beside the field the refusal names (or above the form).

Views stay three lines: load (404 for what the member may not see), ``submit(...)``,
and the page to show again. What "again" means is the view's: its own page builder,
which answers 422 when a form on it carries errors. A button posted from a page it has
no place on (withdraw, remove, stop) uses ``submit_button``: back to that page either
way, with the refusal flashed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import flash, redirect
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from .errors import OffloadError
from .forms import first_error, show_error

T = TypeVar("T")

#: What ``done`` may give: a message (shown as a success), a (message, category) pair,
#: or None to say nothing.
Said = str | tuple[str, str] | None


def submit(form: FlaskForm, call: Callable[[], T], *,
           done: Said | Callable[[T], Said],
           then: str | Callable[[T], str] | None = None,
           again: Callable[[], ResponseReturnValue],
           fields: Mapping[str, str] | None = None,
           answer: Callable[[T], ResponseReturnValue] | None = None) -> ResponseReturnValue:
    """Run ``call`` (the one service call) if ``form`` validates.

    On success flash ``done`` (or ``done(result)``) and redirect to ``then`` (or
    ``then(result)``). When the form is invalid, or the service refuses with an
    ``OffloadError``, the refusal goes on the form (``fields`` maps a service's field
    name to the form's when they differ) and ``again()`` renders the page anew.

    ``answer(result)`` instead of ``then``: show that page rather than redirect, for a
    result that may travel neither in the session cookie (a flash: signed, not
    encrypted) nor in a URL, such as a secret shown once.
    """
    if form.validate_on_submit():
        try:
            result = call()
        except OffloadError as error:
            show_error(form, error, dict(fields) if fields else None)
        else:
            _say(done(result) if callable(done) else done)
            if answer is not None:
                return answer(result)
            assert then is not None, "submit() needs then= or answer="
            return redirect(then(result) if callable(then) else then)
    return again()


def submit_button(form: FlaskForm, call: Callable[[], T], *,
                  done: Said | Callable[[T], Said], to: str) -> ResponseReturnValue:
    """``submit`` for a button: redirect to ``to`` (the page the button is on) either
    way, having flashed ``done`` or, as an error, why the button was refused."""
    def again() -> ResponseReturnValue:
        flash(first_error(form), "error")
        return redirect(to)
    return submit(form, call, done=done, then=to, again=again)


def _say(said: Any) -> None:
    if not said:
        return
    message, category = (said, "success") if isinstance(said, str) else said
    flash(message, category)
