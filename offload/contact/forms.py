"""Contact forms: shape only; the services check the rules."""

from __future__ import annotations

from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import Email, InputRequired, Length

from offload.core.forms import OffloadForm

from .models import BODY_MAX, EMAIL_MAX, NAME_MAX, REPLY_MAX, SUBJECT_MAX


class ContactForm(OffloadForm):
    """A member's message (their account says who they are and where to answer)."""

    subject = StringField("Subject", validators=[
        InputRequired("Say what it is about."),
        Length(max=SUBJECT_MAX, message=f"Keep the subject under {SUBJECT_MAX} characters.")])
    body = TextAreaField("Message", validators=[
        InputRequired("Write your message."),
        Length(max=BODY_MAX, message=f"Keep the message under {BODY_MAX:,} characters.")],
        render_kw={"rows": 8})
    # the honeypot: hidden from people (CSS and aria-hidden), filled in by bots, which
    # are then thanked and dropped; its name looks like a field worth filling
    website = StringField("Leave this empty", render_kw={
        "autocomplete": "off", "tabindex": "-1"})

    @property
    def is_bot(self) -> bool:
        return bool((self.website.data or "").strip())


class VisitorContactForm(ContactForm):
    """A visitor's message: who they are and where the answer should go."""

    name = StringField("Your name", validators=[
        InputRequired("Tell us your name."),
        Length(max=NAME_MAX, message=f"Keep the name under {NAME_MAX} characters.")],
        render_kw={"autocomplete": "name"})
    email = EmailField("Your e-mail address", validators=[
        InputRequired("Give an address we can answer to."),
        Email("That doesn't look like an e-mail address."), Length(max=EMAIL_MAX)],
        description="We answer here; we don't use it for anything else.",
        render_kw={"autocomplete": "email"})


class ReplyForm(OffloadForm):
    reply = TextAreaField("Your answer", validators=[
        InputRequired("Write the answer."),
        Length(max=REPLY_MAX, message=f"Keep the answer under {REPLY_MAX:,} characters.")],
        render_kw={"rows": 4})
