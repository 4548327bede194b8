# STUB: replaced by the notifications helper
from flask import Blueprint

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
def index():
    return "notifications"


@bp.app_context_processor
def _unread():
    return {"unread_notifications": 0}
