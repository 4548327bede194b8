"""Forms only the admin pages use."""

from __future__ import annotations

from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from offload.core.forms import OffloadForm
from offload.invites.tree import REASON_MAX


class ReparentForm(OffloadForm):
    inviter = StringField("New inviter (username)", validators=[
        InputRequired("Name the member who answers for them from now on.")])
    reason = TextAreaField("Reason", validators=[
        InputRequired("Write the reason."),
        Length(max=REASON_MAX, message=f"Keep it under {REASON_MAX:,} characters.")],
        description="It goes to the moderation log; the old edge is kept.",
        render_kw={"rows": 2})
