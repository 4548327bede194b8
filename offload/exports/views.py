"""Settings → "Export my data": ask for an export, see how it is going, have its link
mailed again; and the mailed link, the one way to download the zip."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, send_file, url_for
from flask_login import current_user, login_required

from offload.core.extensions import limiter
from offload.core.forms import ButtonForm
from offload.core.submit import submit, submit_button

from .forms import RequestExportForm
from .policies import why_cannot_request_export
from .queries import ExportFile, export_file_for, latest_export_of
from .services import export_path, request_export, resend_export_link

bp = Blueprint("exports", __name__, url_prefix="/settings/export")


def _page(form: RequestExportForm, status: int = 200):
    config = current_app.config
    return render_template("exports/index.html", form=form,
                           export=latest_export_of(current_user.id),
                           refusal=why_cannot_request_export(current_user.id),
                           link_hours=config["EXPORT_LINK_HOURS"],
                           every_minutes=config["EXPORT_EVERY_MINUTES"],
                           max_bytes=config["EXPORT_MAX_BYTES"]), status


@bp.get("")
@login_required
def index():
    return _page(RequestExportForm(formdata=None))


@bp.post("")
@login_required
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
               key_func=lambda: f"export-data:{current_user.id}")
def request_submit():
    form = RequestExportForm()
    return submit(form, lambda: request_export(actor=current_user._get_current_object(),
                                               password=form.password.data),
                  done="We are preparing your export. We will e-mail you a link when it is "
                       "ready.",
                  then=url_for("exports.index"), again=lambda: _page(form, 422))


@bp.post("/<int:export_id>/link")
@login_required
@limiter.limit(lambda: current_app.config["EXPORT_LINK_LIMIT"],
               key_func=lambda: f"export-link:{current_user.id}")
def resend_link(export_id: int):
    """"Send the link again": a new token mailed; the old link stops working."""
    return submit_button(ButtonForm(), lambda: resend_export_link(
        export_id, actor=current_user._get_current_object()),
        done="We sent the link again. The link we sent before no longer works.",
        to=url_for("exports.index"))


@bp.get("/<int:export_id>/<token>")
@login_required
def download(export_id: int, token: str):
    """The mailed link, the only way to the zip: the owner logged in, and the link's
    token (a session alone, say a stolen cookie, gets nothing). Changes nothing."""
    return _send(export_file_for(current_user, export_id, token))


def _send(export: ExportFile):
    """The zip as a download (nosniff), or the friendly page once its time is up."""
    if export.is_expired:
        hours = current_app.config["EXPORT_LINK_HOURS"]
        return render_template("exports/expired.html", message=(
            f"A download link works for {hours} hours; after that we delete the file, so "
            "your data doesn't wait on our disk. You can ask for a new export at any "
            "time.")), 410
    path = export_path(export.file_name)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="application/zip", as_attachment=True,
                         download_name=export.download_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
