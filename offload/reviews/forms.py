"""Review forms: the text fields (stars come as radio buttons the view reads)."""

from __future__ import annotations

from offload.core.forms import OffloadForm, text_area

from .models import BODY_MAX, REPLY_MAX


class ReviewForm(OffloadForm):
    """The stars come as radio buttons (``stars``, ``skill-<id>``), read by the view."""

    body = text_area("Your review", required="Write what it was like to work together.",
                     limit=BODY_MAX, rows=4)


class ReplyForm(OffloadForm):
    body = text_area("Your reply", required="Write your reply.", limit=REPLY_MAX, rows=2)
