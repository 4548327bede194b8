"""The withdrawal queue: paying out or rejecting a member's withdrawal.

Either takes a written reason and the admin's password, both checked by the service.
"Paid" on a withdrawal to a Stripe payout account makes the Stripe transfer; when
Stripe fails, the form comes back with what went wrong and the withdrawal stays in the
queue (sending), to retry or, once Stripe refused, to reject. A paid withdrawal whose
payout failed and whose Transfer Stripe refused to reverse, time after time, is listed
too: the job gave up, and a person settles it in Stripe's dashboard.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from offload.accounts.decorators import admin_required
from offload.core.db import db
from offload.core.errors import Conflict, NotAllowed, OffloadError
from offload.wallet import services as wallet
from offload.wallet.forms import DecisionForm
from offload.wallet.models import Withdrawal, WithdrawalState
from offload.wallet.queries import pending_withdrawals_page, refused_reversals

from .blueprint import bp
from .queues import render_queue

ACTIONS = {"paid": wallet.mark_withdrawal_paid, "reject": wallet.reject_withdrawal}


@bp.get("/withdrawals")
@admin_required
def withdrawals():
    return _queue()


@bp.post("/withdrawals/<int:withdrawal_id>/paid")
@admin_required
def mark_withdrawal_paid(withdrawal_id: int):
    return _decide(withdrawal_id, "paid")


@bp.post("/withdrawals/<int:withdrawal_id>/reject")
@admin_required
def reject_withdrawal(withdrawal_id: int):
    return _decide(withdrawal_id, "reject")


def _queue(failed: tuple[str, Withdrawal, DecisionForm] | None = None):
    def form_for(action: str, withdrawal: Withdrawal) -> DecisionForm:
        if failed and failed[0] == action and failed[1].id == withdrawal.id:
            return failed[2]
        return DecisionForm(formdata=None, prefix=f"{action}-{withdrawal.id}")

    return render_queue("admin/withdrawals.html",
                        pending_withdrawals_page(request.args.get("before")),
                        failed, failed and failed[1].id, lambda _: failed[1],
                        form_for=form_for, open_form=failed and failed[:2],
                        refused_reversals=refused_reversals(
                            current_app.config["STRIPE_REVERSAL_REFUSALS_MAX"]))


def _load(withdrawal_id: int) -> Withdrawal:
    withdrawal = db.session.scalar(
        select(Withdrawal).where(Withdrawal.id == withdrawal_id)
        .options(joinedload(Withdrawal.member)).execution_options(populate_existing=True))
    if withdrawal is None:
        abort(404)
    return withdrawal


def _decide(withdrawal_id: int, action: str):
    """Not ``core.submit``: a decision another admin made meanwhile (Conflict) or one
    this admin may not make (NotAllowed) has nothing to correct in the form, so it is
    said on the queue instead of shown on the form."""
    withdrawal = _load(withdrawal_id)
    form = DecisionForm(prefix=f"{action}-{withdrawal.id}")
    if form.validate_on_submit():
        try:
            done = ACTIONS[action](withdrawal, actor=current_user._get_current_object(),
                                   reason=form.reason.data, password=form.password.data)
        except wallet.PasswordNotConfirmed as e:
            form.password.errors.append(str(e))
        except (Conflict, NotAllowed) as e:  # nothing to correct in the form
            flash(str(e), "error")
            return redirect(url_for("admin.withdrawals"))
        except OffloadError as e:
            form.form_errors.append(str(e))
        else:
            verb = "rejected" if action == "reject" else (
                "paid through Stripe" if done.transfer_reference else "marked paid")
            flash(f"Withdrawal #{done.id} is {verb}; the member is notified.", "success")
            return redirect(url_for("admin.withdrawals"))
    withdrawal = _load(withdrawal_id)  # as it is now, for the page
    if withdrawal.state not in (WithdrawalState.REQUESTED, WithdrawalState.SENDING):
        flash(f"Withdrawal #{withdrawal.id} is already {withdrawal.state}.", "info")
        return redirect(url_for("admin.withdrawals"))
    return _queue(failed=(action, withdrawal, form))
