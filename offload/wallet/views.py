"""The wallet page: balances, history, adding funds and asking for withdrawals; the
receipts of what was paid or received, and the history as a CSV download."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required

from offload.accounts.decorators import confirmed_required
from offload.accounts.step_up import step_up_for_amount
from offload.core.csv_export import paged_csv
from offload.core.errors import OffloadError
from offload.core.forms import ButtonForm, fresh_fields_key
from offload.core.money import display_money
from offload.core.security import allow_form_redirects_to
from offload.core.submit import submit

from . import connect
from .forms import DepositForm, PayoutAccountWithdrawalForm, WithdrawalForm
from .models import Deposit, DepositState
from .providers import is_sandbox, payment_page_origin, pays_out_through_stripe
from .queries import (
    HISTORY_CSV_HEADER,
    chargebacks_of,
    checkout_deposit,
    deposit_for,
    history_csv_row,
    payout_account_of,
    receipt_for,
    recent_deposits,
    recent_withdrawals,
    wallet_history_page,
    wallet_summary,
    withdrawal_for,
)
from .services import add_funds, request_withdrawal

bp = Blueprint("wallet", __name__)


@bp.app_template_filter("money")
def money(minor: int | None) -> str:
    """``{{ 1250|money }}`` → "$12.50" in the site's currency, written by Babel."""
    return display_money(minor or 0, current_app.config["CURRENCY"])


def _index(deposit_form: DepositForm | None = None,
           withdrawal_form: WithdrawalForm | None = None, status: int = 200):
    member_id = current_user.id
    deposit = deposit_form or DepositForm(formdata=None)
    withdrawal = withdrawal_form or _withdrawal_form(formdata=None)
    page = render_template(
        "wallet/index.html", summary=wallet_summary(member_id),
        history=wallet_history_page(member_id, request.args.get("before")),
        withdrawals=recent_withdrawals(member_id), deposits=recent_deposits(member_id),
        returned=checkout_deposit(member_id, request.args.get("checkout")),
        sandbox=is_sandbox(),
        payout_account=payout_account_of(member_id) if pays_out_through_stripe() else None,
        payout_form=ButtonForm(formdata=None),
        deposit_form=deposit, withdrawal_form=withdrawal,
        # the fields of a form not just refused are the same for everyone: kept as markup
        deposit_key=None if deposit_form else fresh_fields_key(deposit),
        withdrawal_key=None if withdrawal_form else fresh_fields_key(withdrawal))
    # the deposit form's answer may be a redirect to the provider's payment page
    return allow_form_redirects_to(make_response(page, status), payment_page_origin())


@bp.get("/wallet")
@login_required
def index():
    return _index()


@bp.post("/wallet/deposits")
@confirmed_required
def create_deposit():
    form = DepositForm()
    return submit(form, lambda: add_funds(
        actor=current_user._get_current_object(), amount_minor=form.amount.minor,
        idempotency_key=form.idempotency_key.data),
        done=_deposit_said, then=_after_deposit,
        again=lambda: _index(deposit_form=form, status=422))


def _after_deposit(deposit: Deposit) -> str:
    """The provider's payment page for a deposit waiting to be paid there, else the wallet."""
    if deposit.state == DepositState.PENDING and deposit.redirect_url:
        return deposit.redirect_url
    return url_for("wallet.index")


def _deposit_said(deposit: Deposit) -> tuple[str, str] | None:
    amount = money(deposit.amount_minor)
    if deposit.state == DepositState.PENDING and deposit.redirect_url:
        # off to the provider's page: a message kept for the return would be stale by
        # then (paid, or not); the wallet says where the deposit stands when they return
        return None
    if deposit.state == DepositState.COMPLETED:
        return f"{amount} was added to your wallet.", "success"
    if deposit.state == DepositState.PENDING:
        return (f"Your deposit of {amount} is waiting for the payment provider; it is "
                "added to your wallet when they confirm it.", "info")
    return (f"The payment provider refused your deposit of {amount}; nothing was "
            "charged.", "error")


@bp.post("/wallet/withdrawals")
@confirmed_required
def create_withdrawal():
    """A balance that doesn't cover the amount is said next to the amount field (the
    service's ``WithdrawalNotCovered`` names it). An amount above
    TWO_FACTOR_STEP_UP_MINOR asks a member with 2FA on for a fresh code first."""
    form = _withdrawal_form()
    if form.validate_on_submit() and (ask := step_up_for_amount(form.amount.minor)):
        return ask
    return submit(form, lambda: request_withdrawal(
        actor=current_user._get_current_object(), amount_minor=form.amount.minor,
        payout_details=form.payout_details.data if "payout_details" in form else None,
        idempotency_key=form.idempotency_key.data),
        done=lambda withdrawal: (
            f"Your withdrawal of {money(withdrawal.amount_minor)} is requested and the amount "
            "is held. An admin pays it out and you'll be notified."),
        then=url_for("wallet.index"),
        again=lambda: _index(withdrawal_form=form, status=422))


@bp.get("/wallet/deposits/<int:deposit_id>")
@login_required
def deposit(deposit_id: int):
    deposit = deposit_for(current_user, deposit_id)
    return render_template("wallet/deposit.html", deposit=deposit,
                           chargebacks=chargebacks_of(deposit.id))


@bp.get("/wallet/withdrawals/<int:withdrawal_id>")
@login_required
def withdrawal(withdrawal_id: int):
    return render_template("wallet/withdrawal.html",
                           withdrawal=withdrawal_for(current_user, withdrawal_id))


def _withdrawal_form(**kwargs) -> WithdrawalForm:
    """With Stripe, a withdrawal goes to the payout account: no details to type."""
    form = PayoutAccountWithdrawalForm if pays_out_through_stripe() else WithdrawalForm
    return form(**kwargs)


# --- the payout account (Stripe Connect) -------------------------------------------------

@bp.get("/wallet/payout-account")
@login_required
def payout_account():
    """Stripe's ``return_url``: the account's state is read from Stripe's API and kept,
    never taken from this page's query string. A GET that only mirrors what Stripe
    already says, so fetching it twice (or by a link scanner) changes nothing new."""
    try:
        connect.refresh_payout_account(actor=current_user._get_current_object())
    except OffloadError as error:
        return _payout_page(error=str(error))
    return _payout_page()


@bp.post("/wallet/payout-account")
@confirmed_required
def start_payout_account():
    """Answers a page that goes on to Stripe's onboarding, not a redirect: the site's CSP
    (``form-action 'self'``) stops a form's redirect to another site."""
    form = ButtonForm()
    return submit(form, lambda: connect.connect_payout_account(
        actor=current_user._get_current_object()), done=None,
        answer=lambda link: render_template("wallet/payout_onboarding.html", link=link),
        again=lambda: _payout_page(form=form, status=422))


@bp.get("/wallet/payout-account/refresh")
@login_required
def renew_payout_link():
    """Stripe's ``refresh_url`` (an onboarding link expired or was used): a fresh link.
    Makes a link at Stripe, changes nothing here."""
    try:
        link = connect.onboarding_link(actor=current_user._get_current_object())
    except OffloadError as error:
        flash(str(error), "error")
        return redirect(url_for("wallet.payout_account"))
    return redirect(link or url_for("wallet.payout_account"))


def _payout_page(*, form: ButtonForm | None = None, error: str | None = None,
                 status: int = 200):
    return render_template(
        "wallet/payout_account.html", account=payout_account_of(current_user.id),
        stripe=pays_out_through_stripe(), form=form or ButtonForm(formdata=None),
        error=error), status


# the causes of ``RECEIPT_CAUSES``
@bp.get("/wallet/receipts/<any(deposit, withdrawal, offer, commission):cause>/<int:cause_id>")
@login_required
def receipt(cause: str, cause_id: int):
    """Printable (the print stylesheet drops the navigation)."""
    return render_template("wallet/receipt.html",
                           receipt=receipt_for(current_user, cause, cause_id))


@bp.get("/wallet/history.csv")
@login_required
def history_csv():
    """The member's whole history, newest first, streamed a page of the history's own
    keyset at a time."""
    member_id = current_user.id
    return paged_csv("offload-wallet", HISTORY_CSV_HEADER,
                     lambda cursor, size: wallet_history_page(member_id, cursor, size),
                     history_csv_row)
