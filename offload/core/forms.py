"""The forms' base classes, and helpers the views share for showing a service's
refusal on a form, for reading a query string, a record id or a list filter's state sent
with a request.

Every form is an ``OffloadForm`` (posted, with CSRF) or a ``QueryForm`` (a GET filter
form), never a bare ``FlaskForm`` or ``wtforms.Form``: their one filter refuses control
characters in any submitted text before a field's own validators run, so a NUL byte
never reaches a query (PostgreSQL refuses it in text with a 500; SQLite stores it).
Query-string text read with ``arg_text`` is refused the same way. Every amount of
money a form takes is a ``MoneyField``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from enum import Enum
from typing import Any, TypeVar

from flask import current_app
from flask_wtf import FlaskForm
from werkzeug.exceptions import BadRequest
from wtforms import Field, Form, HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, StopValidation

from .errors import Invalid, OffloadError
from .money import format_money, parse_amount

E = TypeVar("E", bound=Enum)

# C0 controls but tab, LF and CR; DEL; C1 controls (Unicode category Cc)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

CONTROL_MESSAGE = ("This can't contain control characters (such as a NUL byte); "
                   "remove them and try again.")


MARKDOWN_HINT = "Markdown is supported: **bold**, *italic*, [a link](https://example.com), lists."


def at_most(n: int, label: str | None = None) -> Length:
    """A length limit whose refusal says the limit: "<label> can be at most 2,000
    characters.", or without a label "Keep it under 2,000 characters."."""
    return Length(max=n, message=f"{label} can be at most {n:,} characters." if label
                  else f"Keep it under {n:,} characters.")


def text_area(label: str, *, required: str, limit: int, rows: int,
              limit_label: str | None = None, **kwargs: Any) -> TextAreaField:
    """A text area that must be filled (``required`` says so when it is empty) and holds
    at most ``limit`` characters (``at_most``)."""
    return TextAreaField(label, validators=[InputRequired(required),
                                            at_most(limit, limit_label)],
                         render_kw={"rows": rows}, **kwargs)


def has_control_characters(text: str) -> bool:
    """True when ``text`` holds a control character other than tab, LF and CR."""
    return _CONTROL.search(text) is not None


def refuse_control_characters(form, field) -> None:
    """The validator every field runs first: submitted text with a control character is
    refused (passwords are exempt: any characters, and they never reach the database)."""
    if isinstance(field, PasswordField):
        return
    if any(isinstance(raw, str) and has_control_characters(raw)
           for raw in field.raw_data or ()):
        raise StopValidation(CONTROL_MESSAGE)


class _RefusesControlCharacters:
    """A ``Meta`` that puts ``refuse_control_characters`` first in every field's chain."""

    def bind_field(self, form, unbound_field, options):
        field = super().bind_field(form, unbound_field, options)
        field.validators = [refuse_control_characters, *field.validators]
        return field


class OffloadForm(FlaskForm):
    """The base of every posted form."""

    class Meta(_RefusesControlCharacters):
        pass


def fresh_fields_key(form: FlaskForm) -> str:
    """The fragment key of a fresh form's fields, its class and prefix
    (templates/_fields_once.html): only for a form built with nothing typed and no
    errors, whose fields look the same to everyone."""
    return f"{type(form).__module__}.{type(form).__qualname__}.{form._prefix}"


class ButtonForm(OffloadForm):
    """No fields: the CSRF token of a button (revoke, remove, withdraw...)."""


class OnceForm(OffloadForm):
    """A form that makes something, carrying a one-time key: the service claims it
    (``ledger.idempotency.claim_key``), so posting the same form again (reloading the
    page its answer showed, a double click) makes nothing more and is told so."""

    once_key = HiddenField()  # a missing or reused key is refused by the service

    def __init__(self, *args, **kwargs) -> None:
        blank = "formdata" in kwargs and kwargs["formdata"] is None
        super().__init__(*args, **kwargs)
        if blank or not self.is_submitted():
            self.renew_key()

    def renew_key(self) -> OnceForm:
        """A new key, for the form shown again after a refusal: sending it then is a
        new request, not the refused one repeated."""
        self.once_key.data = secrets.token_urlsafe(24)
        return self


class QueryForm(Form):
    """The base of every GET filter form (no CSRF)."""

    class Meta(_RefusesControlCharacters):
        pass


class MoneyField(StringField):
    """An amount of money typed as text ("12.50", "1,200", or "$12.50" with the site's
    currency symbol, which the placeholder shows); after validation ``minor`` holds it
    in integer minor units, or None (left empty, or refused).

    ``required`` is the message for an empty field, or None for an optional one. The
    amount is parsed after the field's other validators (``parse_amount``: the site's
    CURRENCY, at most MAX_AMOUNT_MINOR, each refusal with a message that says what is
    expected), and before the form's ``validate_<field>``, which can read ``minor``.
    ``minimum`` (minor units, or the name of a configuration key read when the form
    is validated) refuses less with ``below_minimum``, where ``{minimum}`` is the
    amount as the site writes it.
    """

    minor: int | None = None

    def __init__(self, label: str | None = None, validators=(), *,
                 required: str | None = "Enter an amount.", minimum: int | str | None = None,
                 below_minimum: str = "The smallest amount you can enter is {minimum}.",
                 **kwargs: Any) -> None:
        kwargs["render_kw"] = {"inputmode": "decimal", "autocomplete": "off",
                               **(kwargs.get("render_kw") or {})}
        first = InputRequired(required) if required else Optional()
        super().__init__(label, [first, *validators, _parse_money], **kwargs)
        self.minimum, self.below_minimum = minimum, below_minimum

    def pre_validate(self, form) -> None:
        self.minor = None

    def __call__(self, **kwargs: Any):
        if "placeholder" not in (self.render_kw or {}):
            kwargs.setdefault("placeholder", format_money(0, current_app.config["CURRENCY"]))
        return super().__call__(**kwargs)


def _parse_money(form, field: MoneyField) -> None:
    config = current_app.config
    try:
        minor = parse_amount(field.data, max_minor=config["MAX_AMOUNT_MINOR"],
                             currency=config["CURRENCY"])
    except Invalid as e:
        raise StopValidation(str(e)) from None
    minimum = config[field.minimum] if isinstance(field.minimum, str) else field.minimum
    if minimum is not None and minor < minimum:
        raise StopValidation(field.below_minimum.format(
            minimum=format_money(minimum, config["CURRENCY"])))
    field.minor = minor


class ControlCharactersInQuery(BadRequest):
    member_message = ("The address holds a control character (such as a NUL byte) in "
                      "its query; remove it and try again.")


def show_error(form: FlaskForm, error: OffloadError,
               fields: dict[str, str] | None = None) -> None:
    """Show a service's message next to the field it names (``InvalidField.field``, or
    the form's field ``fields`` maps it to), or above the form."""
    name = getattr(error, "field", None) or ""
    field = form._fields.get((fields or {}).get(name, name))
    if field is not None:
        field.errors = [*field.errors, str(error)]
    else:
        form.form_errors.append(str(error))


def chosen_state(field: Field, states: type[E]) -> E | None:
    """The state a list's filter names (``states`` is the enum), or None for any state;
    a value not in the list is said on the field, and None is answered too."""
    if not field.data:
        return None
    try:
        return states(field.data)
    except ValueError:
        field.errors = ["Choose one of the states in the list."]
        return None


def first_error(form: FlaskForm, default: str = "Something was wrong with the form; try again."
                ) -> str:
    """The first message of a form that failed validation (for a flash)."""
    for errors in form.errors.values():
        return errors[0] if isinstance(errors, list) and errors else str(errors)
    return default


def arg_text(args: Mapping[str, Any], key: str, default: str = "") -> str:
    """One query-string value as text (``default`` when missing or not text); a value
    with a control character is refused with a 400 that says so."""
    value = args.get(key)
    if not isinstance(value, str):
        return default
    if has_control_characters(value):
        raise ControlCharactersInQuery()
    return value


# Record ids are INTEGER columns: PostgreSQL refuses a larger value (DataError) and
# sqlite3 cannot bind one past 64 bits (OverflowError), either a 500.
ID_MAX = 2**31 - 1


def parse_id(raw: object) -> int | None:
    """A record id sent with a request, or None when it can't be one: only ASCII digits
    (``str.isdigit`` is also true for "²", which ``int()`` refuses), 1 to ``ID_MAX``."""
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return None
    value = int(raw)
    return value if 1 <= value <= ID_MAX else None
