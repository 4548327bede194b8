"""The project page as a response: every view whose form lives on that page (projects',
milestones', reviews') answers with it, so none imports another's."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import abort, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from offload.core.submit import Said, submit

from .forms import ProjectForms
from .page import project_page

T = TypeVar("T")


def render_project_page(project_id: int, refused=None):
    """The project page, with the form just submitted (``refused``) as it was sent and,
    when it was refused, why at the top of the page with a 422."""
    page = project_page(project_id, current_user, request.args.get("before"),
                        request.args.get("messages_before"))
    if page is None:
        abort(404)
    forms = ProjectForms(refused)
    return render_template("projects/show.html", page=page, forms=forms), forms.status


def submit_on_project_page(project_id: int, form: FlaskForm, call: Callable[[], T], *,
                           done: Said | Callable[[T], Said],
                           anchor: str | Callable[[T], str] | None = None):
    """``core.submit`` for a form on the project page: on success say ``done`` and go
    back to the page at ``anchor`` (or ``anchor(result)``); refused, the page again with
    the form as it was sent and why (422)."""
    def then(result: T) -> str:
        at = anchor(result) if callable(anchor) else anchor
        return url_for("projects.show", project_id=project_id, _anchor=at or None)

    return submit(form, call, done=done, then=then,
                  again=lambda: render_project_page(project_id, form))
