"""The export request form: the member's password again."""

from __future__ import annotations

from wtforms import PasswordField
from wtforms.validators import DataRequired

from offload.core.forms import OffloadForm


class RequestExportForm(OffloadForm):
    password = PasswordField("Your password", validators=[DataRequired("Enter your password.")],
                             render_kw={"autocomplete": "current-password"})
