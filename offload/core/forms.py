"""Helpers the views share for showing a service's refusal on a form, and for reading
a query string or a record id sent with a request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_wtf import FlaskForm

from .errors import OffloadError


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


def first_error(form: FlaskForm, default: str = "Something was wrong with the form; try again."
                ) -> str:
    """The first message of a form that failed validation (for a flash)."""
    for errors in form.errors.values():
        return errors[0] if isinstance(errors, list) and errors else str(errors)
    return default


def arg_text(args: Mapping[str, Any], key: str) -> str:
    """One query-string value as text ("" when missing or not text)."""
    value = args.get(key)
    return value if isinstance(value, str) else ""


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
