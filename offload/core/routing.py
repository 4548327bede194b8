"""URL converters shared by every blueprint."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter

from .forms import ID_MAX


class RecordIdConverter(IntegerConverter):
    """``<int:...>`` capped at ``ID_MAX``: a number too big for the database's INTEGER
    ids (``/projects/99999999999999999999``) is a 404 like any missing record, not an
    overflow error from the driver."""

    def __init__(self, map, *args, **kwargs) -> None:  # noqa: A002 (werkzeug's name)
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)


def init_routing(app: Flask) -> None:
    """Before any blueprint adds its rules: they take their converters when added."""
    app.url_map.converters["int"] = RecordIdConverter
