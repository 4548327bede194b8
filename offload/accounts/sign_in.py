"""Starting a browser's logged-in session, at the entry points (as ``step_up`` works):
the log-in form, its code step and the sign-up form all start one this way.

A fresh session (no fixation), a signed-in device recorded (``devices``), and the
device's secret kept after ``id:session_token`` in the session's user id, which the
remember cookie copies: the user loader lets neither in once the device is ended.
"""

from __future__ import annotations

from flask import request, session
from flask_login import login_user

from .devices import start_member_session
from .models import User


def begin_browser_session(user: User, *, remember: bool) -> None:
    session.clear()  # no session fixation: start from an empty session
    secret = start_member_session(user, user_agent=request.user_agent.string,
                                  address=request.remote_addr or "")
    login_user(user, remember=remember)
    session["_user_id"] = f"{user.get_id()}:{secret}"
    session.permanent = True
