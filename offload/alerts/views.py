"""Keyword alert pages: saving a board search, the alerts page, the stop link.

Saving and managing need a log-in (saving also a confirmed address: alerts are
e-mail); another member's alert answers 404. The stop link in every alert e-mail works
without a log-in: its GET only shows a button; the POST stops the alert, and also takes
the mail clients' RFC 8058 one-click POST, which carries no CSRF token (the signed
token in the URL is the proof, so that one route is exempt).
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from offload.accounts.decorators import confirmed_required
from offload.core.db import db
from offload.core.errors import InvalidField, OffloadError
from offload.core.extensions import csrf
from offload.core.forms import ButtonForm, show_error
from offload.core.submit import submit, submit_button
from offload.feeds.queries import feed_link_of
from offload.gigs.filters import BoardFilters
from offload.notifications.kinds import KINDS

from . import services
from .forms import AlertForm, NewAlertForm
from .models import Alert
from .naming import describe
from .queries import alerts_page

bp = Blueprint("alerts", __name__)


@bp.get("/alerts")
@login_required
def index():
    page = alerts_page(current_user.id, request.args.get("before"))
    return _render_index(page, {})


@bp.route("/alerts/new", methods=["GET", "POST"])
@confirmed_required
def new():
    form = NewAlertForm()
    if request.method == "GET":
        form.query.data = urlencode(list(request.args.items(multi=True)))
    filters, problems = BoardFilters.from_args(_args(form.query.data))
    search_errors = list(problems.values())  # the search itself is wrong: say so above
    if request.method == "POST" and form.validate_on_submit() and not search_errors:
        try:
            services.save_alert(actor=current_user, query_args=_args(form.query.data),
                                frequency=form.frequency.data, name=form.name.data)
        except InvalidField as e:
            if e.field in form:
                show_error(form, e)
            else:
                search_errors.append(str(e))
        except OffloadError as e:
            show_error(form, e)
        else:
            flash("Alert saved. New gigs matching this search will be sent to you.", "success")
            return redirect(url_for(".index"))
    failed = request.method == "POST" and bool(form.errors or search_errors)
    return render_template("alerts/new.html", form=form, filters=filters,
                           search_errors=search_errors,
                           description=describe(filters)), 422 if failed else 200


@bp.post("/alerts/<int:alert_id>")
@login_required
def update(alert_id: int):
    alert = _own_alert(alert_id)
    form = AlertForm(prefix=f"alert-{alert.id}")

    def again():
        db.session.rollback()  # show the alert as it is, next to what was typed
        return _render_index(alerts_page(current_user.id, None, including=alert.id),
                             {alert.id: form}), 422

    return submit(form, lambda: services.change_alert(
        alert, actor=current_user, frequency=form.frequency.data, name=form.name.data),
        done="Alert saved.", then=url_for(".index"), again=again)


_ACTIONS = {
    "stop": (services.stop_alert, "“{}” is stopped. Resume it here whenever you like."),
    "resume": (services.resume_alert, "“{}” is running again, from now on."),
    "delete": (services.delete_alert, "“{}” is deleted."),
}


@bp.post("/alerts/<int:alert_id>/<any(stop, resume, delete):action>")
@login_required
def act(alert_id: int, action: str):
    """The buttons of the alerts page: stop, resume or delete one alert."""
    alert = _own_alert(alert_id)
    service, done = _ACTIONS[action]
    return submit_button(ButtonForm(), lambda: service(alert, actor=current_user),
                         done=done.format(alert.name), to=url_for(".index"))


@bp.get("/alerts/stop/<token>")
def stop(token: str):
    alert = services.alert_for_stop_token(token)
    if alert is None:
        return render_template("alerts/stop.html", alert=None), 404
    return render_template("alerts/stop.html", alert=alert, token=token, form=ButtonForm())


@bp.post("/alerts/stop/<token>")
@csrf.exempt
def stop_submit(token: str):
    alert = services.alert_for_stop_token(token)
    if alert is None:
        return render_template("alerts/stop.html", alert=None), 404
    services.stop_alert(alert)
    return render_template("alerts/stop.html", alert=alert, stopped=True)


def _render_index(page, forms: dict[int, AlertForm]) -> str:
    """The alerts page; ``forms`` holds the forms to show as typed (by alert id)."""
    return render_template(
        "alerts/index.html", page=page, describe=_described, button=ButtonForm(),
        kind_label=KINDS["keyword_alert"].label, feed_link=feed_link_of(current_user.id),
        forms={a.id: forms.get(a.id) or AlertForm(prefix=f"alert-{a.id}", obj=a)
               for a in page.items})


def _own_alert(alert_id: int) -> Alert:
    alert = db.session.get(Alert, alert_id)
    if alert is None or alert.user_id != current_user.id:
        abort(404)
    return alert


def _args(query: str | None) -> MultiDict:
    return MultiDict(parse_qsl(query or "", keep_blank_values=False))


def _described(alert: Alert) -> str:
    return describe(services.filters_of(alert))
