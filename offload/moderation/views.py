"""The moderation log, for every member to read: what the admins did, to whom, why and
when (not who: admins act for the site), for the actions in ``PUBLIC_ACTIONS``.
Filter by action and by member."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import login_required
from sqlalchemy import select

from offload.accounts.models import User
from offload.accounts.queries import member_named
from offload.core.db import db
from offload.core.forms import arg_text
from offload.core.pagination import newest_first

from .models import PUBLIC_ACTIONS, ModerationEntry

bp = Blueprint("moderation", __name__)


@bp.get("/moderation")
@login_required
def log():
    action = arg_text(request.args, "action").strip()
    username = arg_text(request.args, "member").strip().lstrip("@").lower()
    member = member_named(username)
    stmt = select(ModerationEntry).where(ModerationEntry.action.in_(PUBLIC_ACTIONS))
    if action in PUBLIC_ACTIONS:
        stmt = stmt.where(ModerationEntry.action == action)
    if username:
        stmt = stmt.where(ModerationEntry.subject_user_id == (member.id if member else -1))
    page = newest_first(stmt, ModerationEntry, request.args.get("before"))
    names = dict(db.session.execute(select(User.id, User.display_name).where(
        User.id.in_({e.subject_user_id for e in page.items if e.subject_user_id}))).all())
    return render_template("moderation/log.html", page=page, names=names,
                           actions=sorted(PUBLIC_ACTIONS),
                           action=action, username=username, member=member)
