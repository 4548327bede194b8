"""Review forms: the text fields (stars come as radio buttons the view reads)."""

from __future__ import annotations

from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from offload.core.forms import OffloadForm

from .models import BODY_MAX, REPLY_MAX


class ReviewForm(OffloadForm):
    """The stars come as radio buttons (``stars``, ``skill-<id>``), read by the view."""

    body = TextAreaField("Your review", validators=[
        InputRequired("Write what it was like to work together."),
        Length(max=BODY_MAX, message=f"Keep it under {BODY_MAX:,} characters.")],
        render_kw={"rows": 4})


class ReplyForm(OffloadForm):
    body = TextAreaField("Your reply", validators=[
        InputRequired("Write your reply."),
        Length(max=REPLY_MAX, message=f"Keep it under {REPLY_MAX:,} characters.")],
        render_kw={"rows": 2})
