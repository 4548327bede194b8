"""Forms of a conversation: a message (with an optional file) and the read mark the page
sends. They check shape; the services check who may write and whether it is open."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange

from offload.core.forms import ID_MAX, OffloadForm

from .models import MESSAGE_MAX


class MessageForm(OffloadForm):
    body = TextAreaField("Message", validators=[
        InputRequired("Write a message."),
        Length(max=MESSAGE_MAX, message=f"The message can be at most {MESSAGE_MAX:,} characters.")],
        description="Kept for good: messages are evidence if there is a dispute.",
        render_kw={"rows": 3})
    file = FileField("Attach a file (optional)")


class ReadForm(OffloadForm):
    """How far the page showed the conversation (sent by the page, not typed)."""

    up_to = IntegerField("Read up to", validators=[
        InputRequired("Reload the page and try again."), NumberRange(min=0, max=ID_MAX)])
