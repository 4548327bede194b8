"""Project pages: the private project page with its timeline, and My projects.

A project is seen by its two parties and admins; everyone else, including members who
know the URL, gets 404 (its timeline form too).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from offload.core.db import db
from offload.core.errors import OffloadError
from offload.core.forms import show_error

from .forms import EventForm, MyProjectsFilterForm
from .models import Project, ProjectState
from .policies import can_view_project, why_cannot_post_event
from .queries import my_projects, my_stalling_projects, project_page
from .services import post_project_event

bp = Blueprint("projects", __name__)


@bp.get("/projects/<int:project_id>")
@login_required
def show(project_id: int):
    return _render_show(project_id)


@bp.post("/projects/<int:project_id>/events")
@login_required
def post_event(project_id: int):
    project = db.session.get(Project, project_id)
    if project is None or not can_view_project(project, current_user):
        abort(404)
    form = EventForm(prefix="event")
    if form.validate_on_submit():
        try:
            event = post_project_event(project, actor=current_user, kind=form.kind.data,
                                       note=form.note.data)
        except OffloadError as e:
            show_error(form, e)
        else:
            flash("Posted on the timeline; the other side is told.", "success")
            return redirect(url_for(".show", project_id=project_id,
                                    _anchor=f"event-{event.id}"))
    return _render_show(project_id, form)


@bp.get("/my/projects")
@login_required
def mine():
    form = MyProjectsFilterForm(request.args)
    state = None
    if form.state.data:
        try:
            state = ProjectState(form.state.data)
        except ValueError:
            form.state.errors = ["Choose one of the states in the list."]
    page = my_projects(current_user.id, state, request.args.get("before"))
    return render_template("projects/mine.html", page=page, form=form, state=state,
                           stalling=my_stalling_projects(current_user.id)), (
        422 if form.state.errors else 200)


def _render_show(project_id: int, form: EventForm | None = None):
    page = project_page(project_id, current_user, request.args.get("before"))
    if page is None:
        abort(404)
    status = 422 if form is not None and (form.errors or form.form_errors) else 200
    return render_template(
        "projects/show.html", page=page, project=page.project, gig=page.project.gig,
        can_post=why_cannot_post_event(page.project, current_user) is None,
        form=form or EventForm(prefix="event", formdata=None)), status
