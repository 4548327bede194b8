"""Review forms: the text fields (stars come as radio buttons the view reads)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import InputRequired, Length

from .models import BODY_MAX, REPLY_MAX


class ReviewForm(FlaskForm):
    """The stars come as radio buttons (``stars``, ``skill-<id>``), read by the view."""

    body = TextAreaField("Your review", validators=[
        InputRequired("Write what it was like to work together."),
        Length(max=BODY_MAX, message=f"Keep it under {BODY_MAX:,} characters.")],
        render_kw={"rows": 4})


class ReplyForm(FlaskForm):
    body = TextAreaField("Your reply", validators=[
        InputRequired("Write your reply."),
        Length(max=REPLY_MAX, message=f"Keep it under {REPLY_MAX:,} characters.")],
        render_kw={"rows": 2})
