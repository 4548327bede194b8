"""Site-wide webhooks: endpoints that receive every member's events.

The same pages as a member's Webhooks settings, on the site-wide endpoints; every
change takes a written reason, which the webhooks services put in the moderation log.
"""

from __future__ import annotations

from flask import render_template, request, url_for
from flask_login import current_user

from offload.accounts.decorators import admin_required
from offload.core.submit import submit
from offload.webhooks.forms import ReasonForm, SiteEndpointForm, SiteEventsForm
from offload.webhooks.queries import EndpointView, delivery_log, site_endpoint_for, site_endpoints
from offload.webhooks.services import (
    NewSecret,
    create_webhook_endpoint,
    delete_webhook_endpoint,
    enable_webhook_endpoint,
    rotate_webhook_secret,
    update_webhook_events,
)

from .blueprint import bp

NAMES = {"index": "admin.webhooks", "create": "admin.create_webhook", "show": "admin.webhook",
         "events": "admin.webhook_events", "rotate": "admin.rotate_webhook",
         "enable": "admin.enable_webhook", "delete": "admin.delete_webhook",
         "arg": "site_webhook_id"}


def _index_page(status: int = 200, form: SiteEndpointForm | None = None,
                new_secret: NewSecret | None = None):
    return render_template("admin/webhooks.html", names=NAMES, site_wide=True,
                           endpoints=site_endpoints(),
                           form=form or SiteEndpointForm(formdata=None),
                           new_secret=new_secret), status


def _show_page(endpoint: EndpointView, status: int = 200, *, new_secret: NewSecret | None = None,
               failed: tuple[str, object] | None = None):
    forms = {action: ReasonForm(formdata=None, prefix=action)
             for action in ("rotate", "enable", "delete")}
    events_form = SiteEventsForm(formdata=None, data={"events": list(endpoint.events)})
    if failed and failed[0] == "events":
        events_form = failed[1]
    elif failed:
        forms[failed[0]] = failed[1]
    return render_template("admin/webhook.html", names=NAMES, site_wide=True, endpoint=endpoint,
                           page=delivery_log(endpoint.id, request.args.get("before")),
                           events_form=events_form, button_forms=forms,
                           new_secret=new_secret), status


@bp.get("/webhooks")
@admin_required
def webhooks():
    return _index_page()


@bp.post("/webhooks")
@admin_required
def create_webhook():
    form = SiteEndpointForm()
    return submit(form, lambda: create_webhook_endpoint(
                      actor=current_user, url=form.url.data, events=form.events.data,
                      site_wide=True, reason=form.reason.data),
                  done=None, answer=lambda new: _index_page(new_secret=new),
                  again=lambda: _index_page(422, form=form))


@bp.get("/webhooks/<int:site_webhook_id>")
@admin_required
def webhook(site_webhook_id: int):
    return _show_page(site_endpoint_for(site_webhook_id))


@bp.post("/webhooks/<int:site_webhook_id>/events")
@admin_required
def webhook_events(site_webhook_id: int):
    endpoint = site_endpoint_for(site_webhook_id)
    form = SiteEventsForm()
    return submit(form, lambda: update_webhook_events(
                      endpoint.id, actor=current_user, events=form.events.data,
                      reason=form.reason.data),
                  done="Saved: the endpoint gets these events from now on.",
                  then=url_for(".webhook", site_webhook_id=endpoint.id),
                  again=lambda: _show_page(endpoint, 422, failed=("events", form)))


@bp.post("/webhooks/<int:site_webhook_id>/rotate")
@admin_required
def rotate_webhook(site_webhook_id: int):
    return _button(site_webhook_id, "rotate", rotate_webhook_secret, done=None,
                   answer=lambda endpoint, new: _show_page(endpoint, new_secret=new))


@bp.post("/webhooks/<int:site_webhook_id>/enable")
@admin_required
def enable_webhook(site_webhook_id: int):
    return _button(site_webhook_id, "enable", enable_webhook_endpoint,
                   done="Turned on: the events that waited are on their way.",
                   then=lambda endpoint: url_for(".webhook", site_webhook_id=endpoint.id))


@bp.post("/webhooks/<int:site_webhook_id>/delete")
@admin_required
def delete_webhook(site_webhook_id: int):
    return _button(site_webhook_id, "delete", delete_webhook_endpoint,
                   done="Deleted the webhook.", then=lambda _: url_for(".webhooks"))


def _button(site_webhook_id: int, action: str, service, *, done: str | None, then=None,
            answer=None):
    """A button on a site-wide endpoint's page: its reason, the one service call."""
    endpoint = site_endpoint_for(site_webhook_id)
    form = ReasonForm(prefix=action)
    return submit(form, lambda: service(endpoint.id, actor=current_user,
                                        reason=form.reason.data),
                  done=done, then=then and then(endpoint),
                  answer=answer and (lambda new: answer(endpoint, new)),
                  again=lambda: _show_page(endpoint, 422, failed=(action, form)))
