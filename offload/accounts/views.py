from flask import Blueprint

bp = Blueprint("accounts", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    return "login"


@bp.post("/logout")
def logout():
    return "x"


@bp.get("/settings")
def settings():
    return "x"


@bp.post("/settings/resend-confirmation")
def resend_confirmation():
    return "x"
