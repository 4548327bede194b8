"""The contact page's queue: open messages, oldest first, and answering one. The answer
reaches the sender by e-mail and leaves a (private) moderation-log entry."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from offload.accounts.decorators import admin_required
from offload.contact.forms import ReplyForm
from offload.contact.models import ContactMessage
from offload.contact.queries import contact_item, open_messages_page
from offload.contact.services import answer_contact_message
from offload.core.db import db
from offload.core.errors import OffloadError
from offload.core.forms import show_error

from .blueprint import bp


@bp.get("/contact")
@admin_required
def contact():
    return _render_queue()


@bp.post("/contact/<int:contact_id>/answer")
@admin_required
def answer_contact(contact_id: int):
    message = db.session.get(ContactMessage, contact_id)
    if message is None:
        abort(404)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            answer_contact_message(message, actor=current_user, reply=form.reply.data)
        except OffloadError as e:
            show_error(form, e)
        else:
            flash(f"Answered: {message.name} gets your answer by e-mail.", "success")
            return redirect(url_for("admin.contact"))
    return _render_queue((contact_id, form))


def _render_queue(failed: tuple[int, ReplyForm] | None = None):
    """The queue; ``failed`` (message id, the submitted form) is shown again at the top
    with what was typed and its errors."""
    page = open_messages_page(request.args.get("after"))
    items = list(page.items)
    if failed and failed[0] not in {m.id for m in items}:
        item = contact_item(failed[0])
        if item is not None:
            items.insert(0, item)  # keep the form in view
    return render_template("admin/contact.html", page=page, items=items, failed=failed), (
        422 if failed else 200)
