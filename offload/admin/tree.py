"""The invite-tree explorer and reparenting (the service keeps the old edge and writes
the moderation-log entry)."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from offload.accounts.decorators import admin_required
from offload.accounts.models import User
from offload.core.errors import InvalidField
from offload.core.forms import arg_text, parse_id
from offload.core.submit import submit
from offload.invites.tree import branches, line_to_root, reparent

from .blueprint import bp
from .forms import ReparentForm
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


def _render(username: str, form: ReparentForm | None = None):
    subject = member_named(username) or abort(404)
    after = request.args.get("after", "")
    level, next_after = branches(subject.id, parse_id(after))
    return render_template(
        "admin/tree.html", subject=subject, line=line_to_root(subject.id), level=level,
        next_after=next_after, below=subject.branch_size, open_cases=open_case_count(subject.id),
        form=form or ReparentForm(formdata=None)), (
            422 if form and (form.errors or form.form_errors) else 200)
