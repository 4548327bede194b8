"""The minimal admin area: platform revenue, the ledger check, the withdrawal queue.

Every route answers 404 to anyone but an admin. Paying or rejecting a withdrawal
takes a written reason and the admin's password, both checked by the service.
The blueprint is named ``admin`` and still lives here, beside the withdrawals it
decides; the dashboard's numbers come from ``offload.admin.queries``.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from offload.accounts.decorators import admin_required
from offload.admin.queries import site_numbers
from offload.cases.queries import accountability_counts
from offload.core.db import db
from offload.core.errors import Conflict, NotAllowed, OffloadError
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks

from .forms import DecisionForm
from .models import Withdrawal, WithdrawalState
from .queries import count_pending_withdrawals, pending_withdrawals_page, platform_revenue
from .services import PasswordNotConfirmed, mark_withdrawal_paid, reject_withdrawal

bp = Blueprint("admin", __name__, url_prefix="/admin")

ACTIONS = {"paid": mark_withdrawal_paid, "reject": reject_withdrawal}


@bp.get("")
@admin_required
def index():
    return render_template("admin/index.html", revenue=platform_revenue(),
                           failures=run_checks(MONEY_CHECKS), checks=len(MONEY_CHECKS),
                           pending=count_pending_withdrawals(), numbers=site_numbers(),
                           **accountability_counts())


def _queue(failed: tuple[str, Withdrawal, DecisionForm] | None = None, status: int = 200):
    page = pending_withdrawals_page(request.args.get("before"))
    items = list(page.items)
    if failed and failed[1] not in items:
        items.insert(0, failed[1])  # keep the form with its errors in view

    def form_for(action: str, withdrawal: Withdrawal) -> DecisionForm:
        if failed and failed[0] == action and failed[1].id == withdrawal.id:
            return failed[2]
        return DecisionForm(formdata=None, prefix=f"{action}-{withdrawal.id}")

    return render_template("admin/withdrawals.html", page=page, items=items,
                           form_for=form_for, open_form=failed and failed[:2]), status


@bp.get("/withdrawals")
@admin_required
def withdrawals():
    return _queue()


@bp.post("/withdrawals/<int:withdrawal_id>/paid")
@admin_required
def mark_paid(withdrawal_id: int):
    return _decide(withdrawal_id, "paid")


@bp.post("/withdrawals/<int:withdrawal_id>/reject")
@admin_required
def reject(withdrawal_id: int):
    return _decide(withdrawal_id, "reject")


def _load(withdrawal_id: int) -> Withdrawal:
    withdrawal = db.session.scalar(
        select(Withdrawal).where(Withdrawal.id == withdrawal_id)
        .options(joinedload(Withdrawal.member)).execution_options(populate_existing=True))
    if withdrawal is None:
        abort(404)
    return withdrawal


def _decide(withdrawal_id: int, action: str):
    withdrawal = _load(withdrawal_id)
    form = DecisionForm(prefix=f"{action}-{withdrawal.id}")
    if form.validate_on_submit():
        try:
            done = ACTIONS[action](withdrawal, actor=current_user._get_current_object(),
                                   reason=form.reason.data, password=form.password.data)
        except PasswordNotConfirmed as e:
            form.password.errors.append(str(e))
        except (Conflict, NotAllowed) as e:  # nothing to correct in the form
            flash(str(e), "error")
            return redirect(url_for("admin.withdrawals"))
        except OffloadError as e:
            form.form_errors.append(str(e))
        else:
            verb = "marked paid" if action == "paid" else "rejected"
            flash(f"Withdrawal #{done.id} is {verb}; the member is notified.", "success")
            return redirect(url_for("admin.withdrawals"))
    withdrawal = _load(withdrawal_id)  # as it is now, for the page
    if withdrawal.state != WithdrawalState.REQUESTED:
        flash(f"Withdrawal #{withdrawal.id} is already {withdrawal.state}.", "info")
        return redirect(url_for("admin.withdrawals"))
    return _queue(failed=(action, withdrawal, form), status=422)
