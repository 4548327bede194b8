"""The contact page, for members and visitors, and a member's own message with its
answer."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, url_for
from flask_login import current_user, login_required

from offload.core.extensions import limiter
from offload.core.submit import submit

from .forms import ContactForm, VisitorContactForm
from .queries import contact_item_for
from .services import send_contact_message

bp = Blueprint("contact", __name__)

THANKS = "Thank you: your message reached the admins. They answer by e-mail."


@bp.route("/contact", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["CONTACT_LIMIT"], methods=["POST"])
def new():
    member = current_user if current_user.is_authenticated else None
    form = ContactForm() if member else VisitorContactForm()

    def send() -> None:
        if form.is_bot:  # thanked like anyone, so it learns nothing; nothing is written
            return
        who = ({"actor": member._get_current_object()} if member else
               {"actor": None, "name": form.name.data, "email": form.email.data})
        send_contact_message(subject=form.subject.data, body=form.body.data, **who)

    return submit(form, send, done=THANKS, then=url_for(".new"),
                  again=lambda: (render_template("contact/new.html", form=form),
                                 422 if form.errors else 200))


@bp.get("/contact/<int:contact_id>")
@login_required
def show(contact_id: int):
    item = contact_item_for(current_user, contact_id)
    if item is None:
        abort(404)
    return render_template("contact/show.html", item=item)
