"""An admin's export of a conversation as evidence (404 to anyone but an admin)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_login import current_user

from offload.accounts.decorators import admin_required
from offload.conversations.export import export_conversation
from offload.core.db import db
from offload.core.errors import OffloadError

from .models import Offer

# not "conversations": that is the conversations package's blueprint
bp = Blueprint("admin_conversations", __name__, url_prefix="/admin/conversations")


@bp.post("/<int:offer_id>/export")
@admin_required
def export(offer_id: int):
    offer = db.session.get(Offer, offer_id)
    if offer is None:
        abort(404)
    try:
        text = export_conversation(offer, actor=current_user,
                                   reason=request.form.get("reason", ""))
    except OffloadError as e:
        flash(str(e), "error")
        return redirect(request.referrer if _is_local(request.referrer)
                        else url_for("admin.index"))
    return Response(text, mimetype="text/plain", headers={
        "Content-Disposition": f'attachment; filename="conversation-offer-{offer.id}.txt"',
        "X-Content-Type-Options": "nosniff"})


def _is_local(url: str | None) -> bool:
    return bool(url) and url.startswith(request.host_url)
