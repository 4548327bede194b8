"""Forms only the admin pages use."""

from __future__ import annotations

from wtforms import PasswordField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from offload.cases.forms import ReasonForm
from offload.core.forms import OffloadForm, text_area
from offload.invites.tree import REASON_MAX


class ReparentForm(OffloadForm):
    inviter = StringField("New inviter (username)", validators=[
        InputRequired("Name the member who answers for them from now on.")])
    reason = TextAreaField("Reason", validators=[
        InputRequired("Write the reason."),
        Length(max=REASON_MAX, message=f"Keep it under {REASON_MAX:,} characters.")],
        description="It goes to the moderation log; the old edge is kept.",
        render_kw={"rows": 2})


class ResetTwoFactorForm(ReasonForm):
    """The case forms' reason, with the admin's password: a reset hands the account to
    whoever has the member's password, so the admin confirms it is them."""

    reason = text_area("Reason", required="Write the reason.", limit=REASON_MAX, rows=2,
                       description="How you checked it is the member asking. It goes to "
                                   "the moderation log, which only admins read for this.")
    password = PasswordField("Your password", validators=[InputRequired("Enter your password.")],
                             render_kw={"autocomplete": "current-password"})
