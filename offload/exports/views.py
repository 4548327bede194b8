"""Settings → "Export my data": ask for an export, see how it is going, download it."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, send_file, url_for
from flask_login import current_user, login_required

from offload.core.extensions import limiter
from offload.core.submit import submit

from .forms import RequestExportForm
from .policies import why_cannot_request_export
from .queries import ExportFile, export_file_for, latest_export_of
from .services import export_path, request_export

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


@bp.get("/<int:export_id>/file")
@login_required
def file(export_id: int):
    """The page's download button, while the export is ready."""
    return _send(export_file_for(current_user, export_id))


@bp.get("/<int:export_id>/<token>")
@login_required
def download(export_id: int, token: str):
    """The mailed link: the owner logged in, and the link's token. Changes nothing."""
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
