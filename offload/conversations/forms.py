"""Forms of a conversation: a message (with an optional file) and the read mark the page
sends. They check shape; the services check who may write and whether it is open."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import IntegerField
from wtforms.validators import InputRequired, NumberRange

from offload.core.forms import ID_MAX, OffloadForm, text_area

from .models import MESSAGE_MAX


class MessageForm(OffloadForm):
    body = text_area("Message", required="Write a message.", limit=MESSAGE_MAX, rows=3,
                     limit_label="The message",
                     description="Kept for good: messages are evidence if there is a dispute.")
    file = FileField("Attach a file (optional)")


class ReadForm(OffloadForm):
    """How far the page showed the conversation (sent by the page, not typed)."""

    up_to = IntegerField("Read up to", validators=[
        InputRequired("Reload the page and try again."), NumberRange(min=0, max=ID_MAX)])
