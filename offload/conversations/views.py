"""Conversation routes: writing on an offer's conversation, its live updates and read
mark, its files, the inbox, and the unread count in the top bar.

Every URL is under ``/conversations``, the package's; a conversation is an offer's, so
it is named by the offer's id. The GET addresses used before the move (``/messages``,
``/messages/files/<id>``, ``/offers/<id>/messages/since``), kept in members' bookmarks
and in notifications and e-mails already sent, answer with a permanent redirect. Who
may read a conversation is who may see its offer: the
offer's load-and-authorize check (the two parties and admins; 404 for everyone else).
The project page writes through its own route (``/projects/<id>/messages``) with the
same service.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    get_template_attribute,
    has_request_context,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from offload.accounts.decorators import login_or_404
from offload.core.db import db
from offload.core.errors import OffloadError
from offload.core.forms import first_error, parse_id
from offload.core.submit import submit
from offload.core.uploads import send_stored_file
from offload.gigs.models import Gig
from offload.offers.models import Offer, OfferState
from offload.offers.policies import can_view_offer
from offload.projects.queries import project_of_gig

from .forms import MessageForm, ReadForm
from .models import OfferMessageAttachment
from .policies import is_in_conversation, why_cannot_message
from .queries import (
    conversation_page,
    inbox_page,
    messages_after,
    offer_id_of_file,
    reading_of,
    unread_message_count,
)
from .services import mark_conversation_read, send_offer_message

bp = Blueprint("conversations", __name__)


@bp.post("/conversations/<int:offer_id>/messages")
@login_or_404
def send(offer_id: int):
    """A message on the offer's conversation. Refused, the conversation is shown again
    with the form, what was typed and why (422)."""
    offer, _ = _offer_or_404(offer_id)
    form = MessageForm(prefix="message")
    return submit(form, lambda: send_offer_message(
        offer, actor=current_user, body=form.body.data, file_storage=form.file.data),
        done=None, then=lambda sent: url_for("offers.show", offer_id=offer_id,
                                             _anchor=f"message-{sent.id}"),
        again=lambda: _refused_message(offer_id, form))


def _refused_message(offer_id: int, form: MessageForm):
    offer, gig = _offer_or_404(offer_id)  # re-read: a refusal's rollback expired them
    page = conversation_page(offer.id, None)
    is_party = is_in_conversation(offer, gig, current_user)
    return render_template(
        "conversations/send.html", offer=offer, gig=gig, form=form, messages_page=page,
        messages=list(reversed(page.items)),
        why_cannot_message=why_cannot_message(offer, gig, current_user),
        is_party=is_party,
        reading=reading_of(offer.id, current_user.id) if is_party else None), 422


@bp.get("/conversations/<int:offer_id>/messages/since")
@login_or_404
def since(offer_id: int):
    """The conversation's new messages as JSON, for the live page (see live-messages.js)."""
    offer, _ = _offer_or_404(offer_id)
    after = request.args.get("after", "0")
    messages = messages_after(offer.id, parse_id(after) or 0)
    message = get_template_attribute("conversations/_message.html", "message")
    return jsonify(messages=[{"id": m.id, "html": str(message(m))} for m in messages])


@bp.post("/conversations/<int:offer_id>/messages/read")
@login_or_404
def mark_read(offer_id: int):
    """The page showed the conversation up to a message: the live page sends this by
    itself (JSON answer); without JavaScript it is the "Mark as read" button."""
    offer, gig = _offer_or_404(offer_id)
    form = ReadForm()
    error = None
    if not form.validate_on_submit():
        error = first_error(form)
    else:
        try:
            mark_conversation_read(offer, actor=current_user, up_to_message_id=form.up_to.data)
        except OffloadError as e:
            error = str(e)
    if request.accept_mimetypes.best == "application/json":
        return (jsonify(error=error), 422) if error else ("", 204)
    if error:
        flash(error, "error")
    project_id = (project_of_gig(gig)
                  if offer.state == OfferState.ACCEPTED else None)
    if project_id:
        return redirect(url_for("projects.show", project_id=project_id, _anchor="messages"))
    return redirect(url_for("offers.show", offer_id=offer_id, _anchor="messages"))


@bp.get("/conversations/files/<int:file_id>")
@login_or_404
def file(file_id: int):
    """A message's file, for the two sides and admins, as a download with nosniff."""
    attachment = db.get_or_404(OfferMessageAttachment, file_id)
    _offer_or_404(offer_id_of_file(file_id))
    return send_stored_file(attachment.stored_name, attachment.content_type,
                            attachment.original_name)


@bp.get("/conversations")
@login_required
def inbox():
    return render_template("conversations/inbox.html",
                           page=inbox_page(current_user.id, request.args.get("before")))


#: the addresses these pages had before they moved under ``/conversations``: each GET
#: answers with a permanent redirect to its page (the query string kept)
MOVED = {
    "/messages": "inbox",
    "/messages/files/<int:file_id>": "file",
    "/offers/<int:offer_id>/messages/since": "since",
}


def _moved(endpoint: str):
    def moved(**values):
        target = url_for(f".{endpoint}", **values)
        query = request.query_string.decode("latin-1")
        return redirect(f"{target}?{query}" if query else target, 301)
    return moved


for _path, _endpoint in MOVED.items():
    bp.add_url_rule(_path, f"moved_{_endpoint}", _moved(_endpoint), methods=["GET"])


@bp.app_template_global("unread_messages")
def _unread_messages() -> int:
    """For the top bar: the logged-in member's unread messages, counted by the statement
    that loaded the member (accounts.queries.signed_in): no query here. Only in the
    request that logs a member in is the user the ORM row, which is counted apart."""
    if not has_request_context() or not current_user.is_authenticated:
        return 0
    count = getattr(current_user, "unread_messages", None)
    return unread_message_count(current_user.id) if count is None else count


def _offer_or_404(offer_id: int) -> tuple[Offer, Gig]:
    """The offer whose conversation it is, and its gig, if the member may see it: the
    offer's own rule (the two parties and admins), else 404."""
    offer = db.session.get(Offer, offer_id)
    gig = offer and db.session.get(Gig, offer.gig_id)
    if offer is None or not can_view_offer(offer, gig, current_user):
        abort(404)
    return offer, gig
