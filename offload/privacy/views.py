"""Settings → "Delete my account"."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, session, url_for
from flask_login import current_user, login_required, logout_user

from offload.accounts.queries import two_factor_status
from offload.core.extensions import limiter
from offload.core.submit import submit

from .forms import DeleteAccountForm
from .inventory import ERASED, KEPT
from .policies import ADMIN_REFUSAL, deletion_blockers
from .services import delete_account

bp = Blueprint("privacy", __name__, url_prefix="/privacy")


def _page(form: DeleteAccountForm, status: int = 200):
    """The page: why the account can't go yet, or the form."""
    blockers = [] if current_user.is_admin_account else deletion_blockers(current_user.id)
    return render_template("privacy/delete.html", form=form, blockers=blockers,
                           admin_refusal=ADMIN_REFUSAL if current_user.is_admin_account
                           else None,
                           asks_code=two_factor_status(current_user.id).is_on,
                           erased=list(ERASED), kept=list(KEPT)), status


@bp.get("/delete")
@login_required
def delete():
    return _page(DeleteAccountForm(formdata=None))


@bp.post("/delete")
@login_required
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"],
               key_func=lambda: f"delete-account:{current_user.id}")
def delete_submit():
    form = DeleteAccountForm()

    def run() -> None:
        delete_account(actor=current_user._get_current_object(),
                       password=form.password.data, code=form.code.data)
        logout_user()  # the session token is rotated already; this clears the cookie
        session.clear()

    def again():
        form.code.data = ""  # a code is never shown again: the member types the next
        return _page(form, 422)

    return submit(form, run, done="Your account is deleted. We sent a last e-mail to "
                                  "your old address to confirm it.",
                  then=url_for("pages.landing"), again=again)
