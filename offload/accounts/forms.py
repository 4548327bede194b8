"""Account forms: they check shape; the services check the rules."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from offload.core.forms import OffloadForm

from .models import WorkRole
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


class ChangeEmailForm(OffloadForm):
    new_email = EmailField("New e-mail address",
                           validators=[DataRequired(), Email(), Length(max=254)],
                           render_kw={"autocomplete": "email"})
    password = PasswordField("Current password", validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})
