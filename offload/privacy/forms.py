"""The deletion form: the password, and a code when the member has 2FA on."""

from __future__ import annotations

from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional

from offload.core.forms import OffloadForm


class DeleteAccountForm(OffloadForm):
    password = PasswordField("Your password", validators=[DataRequired("Enter your password.")],
                             render_kw={"autocomplete": "current-password"})
    # asked for (and required by the service) only when two-factor is on
    code = StringField("Code from your app, or a backup code",
                       validators=[Optional(), Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "off",
                                  "spellcheck": "false"})
