from flask import Blueprint

bp = Blueprint("invites", __name__)


@bp.get("/invites")
def index():
    return "invites"
