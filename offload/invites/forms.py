"""Invite and sign-up forms."""

from __future__ import annotations

from wtforms import EmailField, HiddenField, RadioField, SelectChoice, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, ValidationError

from offload.accounts.forms import NewPassword, work_role_field
from offload.accounts.models import AccountType
from offload.core.forms import OffloadForm
from offload.core.zones import is_time_zone


def _known_zone_or_utc(value: str | None) -> str:
    # filled by the browser (static/time-zone.js); nobody sees the field to correct it,
    # so a zone the database doesn't know (or no script) is UTC, changed in the settings
    value = (value or "").strip()
    return value if is_time_zone(value) else "UTC"


class InviteForm(OffloadForm):
    email = EmailField("Their e-mail address",
                       validators=[DataRequired(), Email(), Length(max=254)])
    vouch_note = TextAreaField(
        "Why you trust them", validators=[DataRequired(), Length(min=10, max=1000)],
        description="Your vouch. If they cause trouble, you'll be on the hook with them.")


class SignUpForm(OffloadForm):
    username = StringField(
        "Username",
        validators=[DataRequired(), Length(min=3, max=32),
                    Regexp(r"^[A-Za-z][A-Za-z0-9_-]*$",
                           message="Start with a letter; use letters, digits, - and _.")],
        description="3–32 characters; it appears in your profile's address.",
        render_kw={"autocomplete": "username"})
    display_name = StringField("Your name", validators=[Optional(), Length(max=80)],
                               render_kw={"autocomplete": "name"})
    email = EmailField("E-mail address", validators=[DataRequired(), Email(), Length(max=254)],
                       description="We'll send a link to confirm it.",
                       render_kw={"autocomplete": "email"})
    password = NewPassword("Password", validators=[DataRequired()],
                           description="At least 10 characters. A passphrase works well.",
                           render_kw={"autocomplete": "new-password"})
    account_type = RadioField("You join as", default=AccountType.INDIVIDUAL.value,
                              choices=[SelectChoice(AccountType.INDIVIDUAL.value, "An individual"),
                                       SelectChoice(AccountType.ORGANIZATION.value,
                                                    "An organization")])
    work_role = work_role_field()
    organization_name = StringField("Organization name", validators=[Length(max=120)],
                                    description="Needed when you join as an organization.",
                                    render_kw={"autocomplete": "organization"})

    time_zone = HiddenField(default="UTC", filters=[_known_zone_or_utc],
                            render_kw={"data-browser-time-zone": ""})

    def validate_organization_name(self, field):
        if self.account_type.data == AccountType.ORGANIZATION and not (field.data or "").strip():
            raise ValidationError("Give the organization's name.")
