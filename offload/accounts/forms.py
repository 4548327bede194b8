"""Account forms: they check shape; the services check the rules."""

from __future__ import annotations

from flask import current_app
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, Length, ValidationError

from offload.core.forms import OffloadForm, OnceForm
from offload.core.zones import grouped_time_zones, is_time_zone
from offload.offers.forms import CheckboxesField

from .models import TokenScope, WorkRole
from .passwords import password_problem


def _known_work_role(form, field) -> None:
    if field.data not in {role.value for role in WorkRole}:
        raise ValidationError("Choose what you mainly do: pass on work, take it on, or both.")


def work_role_field() -> RadioField:
    """What the member mainly does: asked at sign-up, changed in the settings."""
    return RadioField(
        "What you mainly do here", default=WorkRole.BOTH.value,
        choices=[SelectChoice(role.value, role.label) for role in WorkRole],
        validators=[_known_work_role], validate_choice=False,
        description="Your dashboard leads with it and members see it on your profile. "
                    "You can still do both, and change it in your settings.")


class NewPassword(PasswordField):
    """A password field checked against the password rules."""

    def pre_validate(self, form):
        if self.data:
            problem = password_problem(self.data)
            if problem:
                raise ValidationError(problem)


class LoginForm(OffloadForm):
    login = StringField("Username or e-mail", validators=[DataRequired(), Length(max=254)],
                        render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField("Password", validators=[DataRequired(), Length(max=128)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField("Keep me logged in on this device")


class RequestResetForm(OffloadForm):
    email = EmailField("E-mail address", validators=[DataRequired(), Email(), Length(max=254)],
                       render_kw={"autocomplete": "email"})


class ResetPasswordForm(OffloadForm):
    password = NewPassword("New password", validators=[DataRequired()],
                           description="At least 10 characters; a passphrase works well.",
                           render_kw={"autocomplete": "new-password"})


class ChangePasswordForm(OffloadForm):
    current_password = PasswordField("Current password", validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    new_password = NewPassword("New password", validators=[DataRequired()],
                               description="At least 10 characters. You'll stay logged in here; "
                                           "every other session ends.",
                               render_kw={"autocomplete": "new-password"})


class WorkRoleForm(OffloadForm):
    work_role = work_role_field()


_ZONE_REFUSED = "Choose a time zone from the list, such as Europe/Paris or America/New_York."


def _known_zone(form, field) -> None:
    if not is_time_zone(field.data):
        raise ValidationError(_ZONE_REFUSED)


class TimeZoneForm(OffloadForm):
    """The zone pages and e-mails show the member's times in: a select grouped by region
    (works without JavaScript; a browser's select jumps to a typed name)."""

    time_zone = SelectField("Your time zone", validators=[_known_zone], validate_choice=False,
                            description="Every date and time on the site and in our e-mails "
                                        "is shown in it, with the zone named.")

    def __init__(self, *args, current: str = "UTC", **kwargs):
        super().__init__(*args, **kwargs)
        groups = grouped_time_zones()
        listed = any(current == name for zones in groups.values() for name, _ in zones)
        # a zone a browser sent at sign-up that the list doesn't offer ("US/Eastern")
        self.time_zone.choices = groups if listed else {"Yours": [(current, current)],
                                                        **groups}


class ChangeEmailForm(OffloadForm):
    new_email = EmailField("New e-mail address",
                           validators=[DataRequired(), Email(), Length(max=254)],
                           render_kw={"autocomplete": "email"})
    password = PasswordField("Current password", validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})


class PersonalTokenForm(OnceForm):
    """A new personal access token for the API: its name, scopes and expiry (and a
    one-time key: reloading the page that shows the secret makes no second token)."""

    name = StringField("Token name", validators=[DataRequired("Name the token."),
                                                 Length(max=80)],
                       description="What will use it, for example “my deploy script”.")
    scopes = CheckboxesField(
        "What it may do", default=[TokenScope.READ.value],
        choices=[SelectChoice(scope.value, scope.label) for scope in TokenScope],
        validators=[DataRequired("Choose at least one scope.")])
    days = SelectField("Expires after", coerce=int,
                       validators=[DataRequired("Choose when the token expires.")])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        days = current_app.config["PERSONAL_TOKEN_DAYS"]
        self.days.choices = [(n, f"{n} days") for n in days]
        if self.days.data is None:
            self.days.data = 30 if 30 in days else days[0]


# --- two-factor log-in ------------------------------------------------------------------

def code_field(label: str = "Code from your app", **kwargs) -> StringField:
    """A code from the authenticator app (or a backup code, where one is accepted)."""
    return StringField(label, validators=[DataRequired("Enter the code."), Length(max=32)],
                       render_kw={"autocomplete": "one-time-code", "autocapitalize": "off",
                                  "spellcheck": "false", "autofocus": True, **kwargs})


class LoginCodeForm(OffloadForm):
    """The log-in's second step: the code field takes a backup code as well."""

    code = code_field("Code", inputmode="numeric")


class BackupLoginCodeForm(OffloadForm):
    code = code_field("Backup code")


class EnableTwoFactorForm(OffloadForm):
    code = code_field("Code from your app", inputmode="numeric")


class RegenerateBackupCodesForm(OffloadForm):
    code = code_field("Code from your app, or a backup code", autofocus=False)


class DisableTwoFactorForm(OffloadForm):
    password = PasswordField("Your password", validators=[DataRequired("Enter your password.")],
                             render_kw={"autocomplete": "current-password"})
    code = code_field("Code from your app, or a backup code")


class ConfirmCodeForm(OffloadForm):
    """Re-entering a code before an admin decision or a large withdrawal. Its fields are
    prefixed so they never meet the fields of the form it sends on (``step_up``)."""

    code = code_field("Code from your app, or a backup code")
    next = HiddenField()

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("prefix", "two_factor")
        super().__init__(*args, **kwargs)


# --- passkeys ---------------------------------------------------------------------------

def credential_field() -> HiddenField:
    """The browser's answer to a WebAuthn ceremony, as JSON (``static/js/passkeys.js``
    fills it in; without JavaScript it stays empty and the service refuses it)."""
    return HiddenField(render_kw={"data-passkey-credential": True})


class AddPasskeyForm(OffloadForm):
    name = StringField("Name it", validators=[DataRequired("Name the passkey."),
                                              Length(max=80)],
                       description="So you can tell it from others, for example “work "
                                   "laptop” or “phone”.",
                       render_kw={"autocomplete": "off"})
    credential = credential_field()


class PasskeyLoginForm(OffloadForm):
    """The log-in's second step with a passkey instead of a code."""

    credential = credential_field()


class PasskeyConfirmForm(OffloadForm):
    """"Re-enter your code" with a passkey: prefixed as ``ConfirmCodeForm`` is."""

    credential = credential_field()
    next = HiddenField()

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("prefix", "two_factor")
        super().__init__(*args, **kwargs)
