"""Account forms: they check shape; the services check the rules."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from .passwords import password_problem


class NewPassword(PasswordField):
    """A password field checked against the password rules."""

    def pre_validate(self, form):
        if self.data:
            problem = password_problem(self.data)
            if problem:
                raise ValidationError(problem)


class LoginForm(FlaskForm):
    login = StringField("Username or e-mail", validators=[DataRequired(), Length(max=254)],
                        render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField("Password", validators=[DataRequired(), Length(max=128)],
                             render_kw={"autocomplete": "current-password"})
    remember = BooleanField("Keep me logged in on this device")


class RequestResetForm(FlaskForm):
    email = EmailField("E-mail address", validators=[DataRequired(), Email(), Length(max=254)],
                       render_kw={"autocomplete": "email"})


class ResetPasswordForm(FlaskForm):
    password = NewPassword("New password", validators=[DataRequired()],
                           description="At least 10 characters; a passphrase works well.",
                           render_kw={"autocomplete": "new-password"})


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    new_password = NewPassword("New password", validators=[DataRequired()],
                               description="At least 10 characters. You'll stay logged in here; "
                                           "every other session ends.",
                               render_kw={"autocomplete": "new-password"})


class ChangeEmailForm(FlaskForm):
    new_email = EmailField("New e-mail address",
                           validators=[DataRequired(), Email(), Length(max=254)],
                           render_kw={"autocomplete": "email"})
    password = PasswordField("Current password", validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})
