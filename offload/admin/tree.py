"""The invite-tree explorer, the admin's page of a member: reparenting (the service
keeps the old edge and writes the moderation-log entry) and resetting the member's
two-factor log-in (``moderation.account_recovery``; the admin area's guard has asked
for the admin's own fresh code before any POST here)."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from offload.accounts.decorators import admin_required
from offload.accounts.models import User
from offload.accounts.queries import two_factor_status
from offload.core.errors import InvalidField
from offload.core.forms import arg_text, parse_id
from offload.core.submit import submit
from offload.invites.tree import branches, line_to_root, reparent
from offload.moderation.account_recovery import (
    reset_member_two_factor,
    why_cannot_reset_two_factor,
)

from .blueprint import bp
from .forms import ReparentForm, ResetTwoFactorForm
from .queries import member_named, members_starting, open_case_count


@bp.get("/tree")
@admin_required
def tree():
    """Find a member by username (exact) or the start of a username or name."""
    q = " ".join(arg_text(request.args, "q").split()).lstrip("@")
    found = []
    if q:
        exact = member_named(q)
        if exact is not None:
            return redirect(url_for("admin.tree_member", username=exact.username))
        found = members_starting(q)
    return render_template("admin/tree_search.html", q=q, found=found)


@bp.get("/tree/<username>")
@admin_required
def tree_member(username: str):
    return _render(username)


@bp.post("/tree/<username>/reparent")
@admin_required
def reparent_member(username: str):
    subject = member_named(username) or abort(404)
    form = ReparentForm()

    def call() -> User:
        new_inviter = member_named(form.inviter.data)
        if new_inviter is None:
            raise InvalidField("inviter", "There is no member with that username.")
        reparent(subject, actor=current_user, new_inviter=new_inviter,
                 reason=form.reason.data)
        return new_inviter

    return submit(form, call,
                  done=lambda new_inviter: f"{subject.name} now answers to {new_inviter.name}.",
                  then=url_for("admin.tree_member", username=subject.username),
                  again=lambda: _render(username, form))


@bp.post("/tree/<username>/reset-two-factor")
@admin_required
def reset_two_factor(username: str):
    subject = member_named(username) or abort(404)
    form = ResetTwoFactorForm(prefix="reset")
    return submit(form, lambda: reset_member_two_factor(
                      subject, actor=current_user, password=form.password.data,
                      reason=form.reason.data),
                  done=f"{subject.name}'s two-factor authentication is reset: they log in "
                       "with their password and set it up again. We e-mailed them.",
                  then=url_for("admin.tree_member", username=subject.username,
                               _anchor="two-factor"),
                  again=lambda: _render(username, reset_form=form))


def _render(username: str, form: ReparentForm | None = None,
            reset_form: ResetTwoFactorForm | None = None):
    subject = member_named(username) or abort(404)
    after = request.args.get("after", "")
    level, next_after = branches(subject.id, parse_id(after))
    failed = [f for f in (form, reset_form) if f is not None]
    return render_template(
        "admin/tree.html", subject=subject, line=line_to_root(subject.id), level=level,
        next_after=next_after, below=subject.branch_size, open_cases=open_case_count(subject.id),
        form=form or ReparentForm(formdata=None),
        reset_form=reset_form or ResetTwoFactorForm(formdata=None, prefix="reset"),
        two_factor=two_factor_status(subject.id),
        cannot_reset=why_cannot_reset_two_factor(subject, actor=current_user)), (
            422 if any(f.errors or f.form_errors for f in failed) else 200)
