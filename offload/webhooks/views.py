"""The Webhooks settings page: a member's endpoints, a new one (its secret shown once),
each endpoint's events, secret and delivery log. Another member's endpoint is 404.
The admins' site-wide endpoints have the same pages under /admin (admin/webhooks.py).
"""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user, login_required

from offload.core.forms import ButtonForm
from offload.core.submit import submit, submit_button

from .forms import EndpointForm, EventsForm
from .queries import EndpointView, delivery_log, endpoint_for, endpoints_of
from .services import (
    NewSecret,
    create_webhook_endpoint,
    delete_webhook_endpoint,
    enable_webhook_endpoint,
    rotate_webhook_secret,
    update_webhook_events,
)

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

# the endpoint names the shared templates link to (the admin pages pass their own)
NAMES = {"index": "webhooks.index", "create": "webhooks.create", "show": "webhooks.show",
         "events": "webhooks.events", "rotate": "webhooks.rotate",
         "enable": "webhooks.enable", "delete": "webhooks.delete", "arg": "webhook_id"}


def _index_page(status: int = 200, form: EndpointForm | None = None,
                new_secret: NewSecret | None = None):
    return render_template("webhooks/index.html", names=NAMES, site_wide=False,
                           endpoints=endpoints_of(current_user.id),
                           form=form or EndpointForm(formdata=None),
                           new_secret=new_secret), status


def _show_page(endpoint: EndpointView, status: int = 200, events_form: EventsForm | None = None,
               new_secret: NewSecret | None = None, button_forms: dict | None = None):
    return render_template("webhooks/show.html", names=NAMES, site_wide=False,
                           endpoint=endpoint, page=delivery_log(endpoint.id,
                                                                request.args.get("before")),
                           events_form=events_form or EventsForm(
                               formdata=None, data={"events": list(endpoint.events)}),
                           button_forms=button_forms or _buttons(),
                           new_secret=new_secret), status


def _buttons() -> dict[str, ButtonForm]:
    return dict.fromkeys(("rotate", "enable", "delete"), ButtonForm(formdata=None))


@bp.get("")
@login_required
def index():
    return _index_page()


@bp.post("")
@login_required
def create():
    """The new secret is on the page this answers with, once (as a new API token)."""
    form = EndpointForm()
    return submit(form, lambda: create_webhook_endpoint(
                      actor=current_user, url=form.url.data, events=form.events.data),
                  done=None, answer=lambda new: _index_page(new_secret=new),
                  again=lambda: _index_page(422, form=form))


@bp.get("/<int:webhook_id>")
@login_required
def show(webhook_id: int):
    return _show_page(endpoint_for(current_user, webhook_id))


@bp.post("/<int:webhook_id>/events")
@login_required
def events(webhook_id: int):
    endpoint = endpoint_for(current_user, webhook_id)
    form = EventsForm()
    return submit(form, lambda: update_webhook_events(endpoint.id, actor=current_user,
                                                      events=form.events.data),
                  done="Saved: the endpoint gets these events from now on.",
                  then=url_for(".show", webhook_id=endpoint.id),
                  again=lambda: _show_page(endpoint, 422, events_form=form))


@bp.post("/<int:webhook_id>/rotate")
@login_required
def rotate(webhook_id: int):
    endpoint = endpoint_for(current_user, webhook_id)
    return submit(ButtonForm(), lambda: rotate_webhook_secret(endpoint.id, actor=current_user),
                  done=None, answer=lambda new: _show_page(endpoint, new_secret=new),
                  again=lambda: _show_page(endpoint, 422))


@bp.post("/<int:webhook_id>/enable")
@login_required
def enable(webhook_id: int):
    endpoint = endpoint_for(current_user, webhook_id)
    return submit_button(ButtonForm(), lambda: enable_webhook_endpoint(
                             endpoint.id, actor=current_user),
                         done="Turned on: the events that waited are on their way.",
                         to=url_for(".show", webhook_id=endpoint.id))


@bp.post("/<int:webhook_id>/delete")
@login_required
def delete(webhook_id: int):
    endpoint = endpoint_for(current_user, webhook_id)
    return submit_button(ButtonForm(), lambda: delete_webhook_endpoint(
                             endpoint.id, actor=current_user),
                         done=f"Deleted the webhook to {endpoint.url}.", to=url_for(".index"))
