"""The admin's invite-tree explorer and reparenting. 404 to anyone but an admin."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from offload.accounts.decorators import admin_required
from offload.accounts.models import User
from offload.cases.models import Case, CaseState
from offload.core.db import db
from offload.core.errors import InvalidField, OffloadError
from offload.core.forms import OffloadForm, arg_text, parse_id, show_error

from .tree import REASON_MAX, branches, line_to_root, reparent

bp = Blueprint("admin_tree", __name__, url_prefix="/admin/tree")


class ReparentForm(OffloadForm):
    inviter = StringField("New inviter (username)", validators=[
        InputRequired("Name the member who answers for them from now on.")])
    reason = TextAreaField("Reason", validators=[
        InputRequired("Write the reason."),
        Length(max=REASON_MAX, message=f"Keep it under {REASON_MAX:,} characters.")],
        description="It goes to the moderation log; the old edge is kept.",
        render_kw={"rows": 2})


@bp.get("")
@admin_required
def search():
    """Find a member by username (exact) or the start of a username or name."""
    q = " ".join(arg_text(request.args, "q").split()).lstrip("@")
    found = []
    if q:
        exact = _member(q)
        if exact is not None:
            return redirect(url_for(".member", username=exact.username))
        pattern = q.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
        found = list(db.session.scalars(select(User).where(
            (User.username.like(pattern)) | (User.display_name.ilike(pattern)))
            .order_by(User.username).limit(20)))
    return render_template("admin/tree_search.html", q=q, found=found)


@bp.get("/<username>")
@admin_required
def member(username: str):
    return _render(username)


@bp.post("/<username>/reparent")
@admin_required
def move(username: str):
    subject = _member(username) or abort(404)
    form = ReparentForm()
    if form.validate_on_submit():
        try:
            new_inviter = _member(form.inviter.data)
            if new_inviter is None:
                raise InvalidField("inviter", "There is no member with that username.")
            reparent(subject, actor=current_user, new_inviter=new_inviter,
                     reason=form.reason.data)
        except OffloadError as e:
            show_error(form, e)
        else:
            flash(f"{subject.name} now answers to {new_inviter.name}.", "success")
            return redirect(url_for(".member", username=subject.username))
    return _render(username, form)


def _render(username: str, form: ReparentForm | None = None):
    subject = _member(username) or abort(404)
    after = request.args.get("after", "")
    level, next_after = branches(subject.id, parse_id(after))
    open_cases = db.session.scalar(select(db.func.count()).select_from(Case).where(
        Case.subject_id == subject.id, Case.state == CaseState.OPEN))
    return render_template(
        "admin/tree.html", subject=subject, line=line_to_root(subject.id), level=level,
        next_after=next_after, below=subject.branch_size, open_cases=open_cases,
        form=form or ReparentForm(formdata=None)), (
            422 if form and (form.errors or form.form_errors) else 200)


def _member(username: str | None) -> User | None:
    name = (username or "").strip().lstrip("@").lower()
    return db.session.scalar(select(User).where(User.username == name)) if name else None
