"""The project page as a response: every view whose form lives on that page (projects',
milestones', reviews') answers with it, so none imports another's."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user

from .forms import ProjectForms
from .page import project_page


def render_project_page(project_id: int, refused=None):
    """The project page, with the form just submitted (``refused``) as it was sent and,
    when it was refused, why at the top of the page with a 422."""
    page = project_page(project_id, current_user, request.args.get("before"),
                        request.args.get("messages_before"))
    if page is None:
        abort(404)
    forms = ProjectForms(refused)
    return render_template("projects/show.html", page=page, forms=forms), forms.status
