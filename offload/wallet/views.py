"""The wallet page: balances, history, adding funds and asking for withdrawals."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from offload.accounts.decorators import confirmed_required
from offload.core.db import db
from offload.core.errors import OffloadError
from offload.core.money import format_money
from offload.ledger.services import InsufficientFunds

from .forms import DepositForm, WithdrawalForm
from .models import Deposit, DepositState, Withdrawal
from .policies import can_view
from .providers import is_sandbox
from .queries import recent_withdrawals, wallet_history_page, wallet_summary
from .services import add_funds, request_withdrawal

bp = Blueprint("wallet", __name__)


@bp.app_template_filter("money")
def money(minor: int | None) -> str:
    """``{{ 1250|money }}`` → "$12.50" in the site's currency."""
    return format_money(minor or 0, current_app.config["CURRENCY"])


def _index(deposit_form: DepositForm | None = None,
           withdrawal_form: WithdrawalForm | None = None, status: int = 200):
    member_id = current_user.id
    return render_template(
        "wallet/index.html", summary=wallet_summary(member_id),
        history=wallet_history_page(member_id, request.args.get("before")),
        withdrawals=recent_withdrawals(member_id), sandbox=is_sandbox(),
        deposit_form=deposit_form or DepositForm(formdata=None),
        withdrawal_form=withdrawal_form or WithdrawalForm(formdata=None)), status


@bp.get("/wallet")
@login_required
def index():
    return _index()


@bp.post("/wallet/deposits")
@confirmed_required
def create_deposit():
    form = DepositForm()
    if form.validate_on_submit():
        try:
            deposit = add_funds(actor=current_user._get_current_object(),
                                amount_minor=form.amount.minor,
                                idempotency_key=form.idempotency_key.data)
        except OffloadError as e:
            form.form_errors.append(str(e))
        else:
            amount = money(deposit.amount_minor)
            if deposit.state == DepositState.COMPLETED:
                flash(f"{amount} was added to your wallet.", "success")
            elif deposit.state == DepositState.PENDING:
                flash(f"Your deposit of {amount} is waiting for the payment provider; it is "
                      "added to your wallet when they confirm it.", "info")
            else:
                flash(f"The payment provider refused your deposit of {amount}; nothing was "
                      "charged.", "error")
            return redirect(url_for("wallet.index"))
    return _index(deposit_form=form, status=422)


@bp.post("/wallet/withdrawals")
@confirmed_required
def create_withdrawal():
    form = WithdrawalForm()
    if form.validate_on_submit():
        try:
            withdrawal = request_withdrawal(actor=current_user._get_current_object(),
                                            amount_minor=form.amount.minor,
                                            payout_details=form.payout_details.data,
                                            idempotency_key=form.idempotency_key.data)
        except InsufficientFunds as e:
            form.amount.errors.append(str(e))
        except OffloadError as e:
            form.form_errors.append(str(e))
        else:
            flash(f"Your withdrawal of {money(withdrawal.amount_minor)} is requested and the "
                  "amount is held. An admin pays it out and you'll be notified.", "success")
            return redirect(url_for("wallet.index"))
    return _index(withdrawal_form=form, status=422)


@bp.get("/wallet/deposits/<int:deposit_id>")
@login_required
def deposit(deposit_id: int):
    row = db.get_or_404(Deposit, deposit_id)
    if not can_view(current_user, row):
        abort(404)
    return render_template("wallet/deposit.html", deposit=row)


@bp.get("/wallet/withdrawals/<int:withdrawal_id>")
@login_required
def withdrawal(withdrawal_id: int):
    row = db.get_or_404(Withdrawal, withdrawal_id)
    if not can_view(current_user, row):
        abort(404)
    return render_template("wallet/withdrawal.html", withdrawal=row)
