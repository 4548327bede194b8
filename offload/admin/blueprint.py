"""The admin area's one blueprint; each subject module adds its routes to it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
