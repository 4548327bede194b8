"""An admin's export of an offer's conversation as evidence (a reason is required; the
service writes the moderation-log entry)."""

from __future__ import annotations

from flask import Response, flash, redirect, request, url_for
from flask_login import current_user

from offload.accounts.decorators import admin_required
from offload.conversations.export import export_conversation as export_offer_conversation
from offload.core.db import db
from offload.core.errors import OffloadError
from offload.offers.models import Offer

from .blueprint import bp


@bp.post("/conversations/<int:offer_id>/export")
@admin_required
def export_conversation(offer_id: int):
    offer = db.get_or_404(Offer, offer_id)
    try:  # not core.submit: the answer is a file, and a refusal goes back where it was asked
        text = export_offer_conversation(offer, actor=current_user,
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
