"""The admin area's one blueprint; each subject module adds its routes to it.

Before any of them: an admin without two-factor log-in is sent to set it up, and an
admin decision (a POST) needs a code entered lately (``accounts.step_up``).
"""

from __future__ import annotations

from flask import Blueprint

from offload.accounts.step_up import admin_second_factor

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(admin_second_factor)
