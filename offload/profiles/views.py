# STUB: replaced by the profiles helper
from flask import Blueprint

bp = Blueprint("profiles", __name__)


@bp.get("/members")
def members():
    return "members"


@bp.get("/members/<username>")
def show(username):
    return username
