"""The contact page's queue: open messages, oldest first, and answering one. The answer
reaches the sender by e-mail and leaves a (private) moderation-log entry."""

from __future__ import annotations

from flask import request, url_for
from flask_login import current_user

from offload.accounts.decorators import admin_required
from offload.contact.forms import ReplyForm
from offload.contact.models import ContactMessage
from offload.contact.queries import contact_item, open_messages_page
from offload.contact.services import answer_contact_message
from offload.core.db import db
from offload.core.submit import submit

from .blueprint import bp
from .queues import render_queue


@bp.get("/contact")
@admin_required
def contact():
    return _render_queue()


@bp.post("/contact/<int:contact_id>/answer")
@admin_required
def answer_contact(contact_id: int):
    message = db.get_or_404(ContactMessage, contact_id)
    form = ReplyForm()
    return submit(form, lambda: answer_contact_message(
        message, actor=current_user, reply=form.reply.data),
        done=lambda _: f"Answered: {message.name} gets your answer by e-mail.",
        then=url_for("admin.contact"), again=lambda: _render_queue((contact_id, form)))


def _render_queue(failed: tuple[int, ReplyForm] | None = None):
    """The queue; ``failed`` (message id, the submitted form) is shown again at the top
    with what was typed and its errors."""
    return render_queue("admin/contact.html", open_messages_page(request.args.get("after")),
                        failed, failed and failed[0], contact_item)
