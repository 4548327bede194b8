"""My invites, sending and revoking them, and signing up from an invite link."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from offload.accounts.decorators import confirmed_required
from offload.accounts.models import User
from offload.accounts.services import record_login
from offload.accounts.sign_in import begin_browser_session
from offload.core.db import db
from offload.core.errors import OffloadError
from offload.core.extensions import limiter
from offload.core.forms import ButtonForm
from offload.core.submit import submit, submit_button

from .forms import InviteForm, SignUpForm
from .models import Invite
from .policies import invites_left, why_cannot_invite
from .queries import invites_sent_page, moved_in_page
from .services import accept_invite, check_invite_usable, find_invite, revoke_invite, send_invite

bp = Blueprint("invites", __name__)


def _index(form: InviteForm, status: int = 200):
    user = current_user._get_current_object()
    page = invites_sent_page(user.id, request.args.get("before"))
    moved_in = moved_in_page(user.id, request.args.get("moved_before"))
    return render_template("invites/index.html", form=form, page=page, moved_in=moved_in,
                           left=invites_left(user), blocked=why_cannot_invite(user)), status


@bp.get("/invites")
@login_required
def index():
    return _index(InviteForm())


@bp.post("/invites")
@confirmed_required
@limiter.limit(lambda: current_app.config["INVITE_LIMIT"])
def create():
    form = InviteForm()
    return submit(form, lambda: send_invite(actor=current_user._get_current_object(),
                                            email=form.email.data,
                                            vouch_note=form.vouch_note.data),
                  done=lambda invite: f"Invite sent to {invite.email}. The link works for "
                                      f"{current_app.config['INVITE_TTL_DAYS']} days.",
                  then=url_for("invites.index"), again=lambda: _index(form, 422))


@bp.post("/invites/<int:invite_id>/revoke")
@login_required
def revoke(invite_id: int):
    invite = db.get_or_404(Invite, invite_id)
    if invite.inviter_id != current_user.id and not current_user.is_admin:
        abort(404)
    return submit_button(ButtonForm(), lambda: revoke_invite(
        invite, actor=current_user._get_current_object()),
        done=f"The invite to {invite.email} is revoked; its link no longer works.",
        to=url_for("invites.index"))


def _signup_page(token: str, form: SignUpForm, status: int = 200):
    """The sign-up form for a usable invite, or a page saying why the link can't be used."""
    try:
        invite = check_invite_usable(find_invite(token))
    except OffloadError as e:
        return render_template("invites/link_problem.html", message=str(e)), 410
    return render_template("invites/accept.html", form=form, invite=invite,
                           inviter=db.session.get(User, invite.inviter_id), token=token), status


@bp.get("/join/<token>")
def accept(token: str):
    """Show the invite and the sign-up form. A GET changes nothing: mail scanners open links."""
    form = SignUpForm()
    invite = find_invite(token)
    if invite is not None and not form.email.data:
        form.email.data = invite.email
    return _signup_page(token, form)


@bp.post("/join/<token>")
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ADDRESS"])
def accept_submit(token: str):
    form = SignUpForm()

    def join() -> User:
        user = accept_invite(token, username=form.username.data, email=form.email.data,
                             password=form.password.data,
                             display_name=form.display_name.data or "",
                             account_type=form.account_type.data,
                             organization_name=form.organization_name.data or "",
                             work_role=form.work_role.data,
                             time_zone=form.time_zone.data)
        # logged in at once, as a log-in does: a fresh session (no fixation), this
        # browser their first signed-in device
        begin_browser_session(user, remember=False)
        record_login(user)
        return user

    return submit(form, join,
                  done=lambda user: f"Welcome to Offload, {user.name}. We sent a link to "
                                    f"{user.email}: open it to confirm your address, then "
                                    "you can post gigs, make offers and invite others.",
                  then=url_for("pages.dashboard"), again=lambda: _signup_page(token, form, 422))
