"""Whether a member may delete their account now, and if not, every reason why."""

from __future__ import annotations

from typing import NamedTuple

from flask import current_app
from sqlalchemy import BigInteger, cast, exists, func, or_, select

from offload.commissions.models import Commission, CommissionState, InvoiceReview
from offload.core.db import db
from offload.core.money import format_money
from offload.projects.models import Project, ProjectState
from offload.wallet.models import Deposit, DepositState, Withdrawal, WithdrawalState
from offload.wallet.queries import wallet_summary


class DeletionBlocker(NamedTuple):
    """One thing still open that keeps the account: said plainly, with the page where
    the member can settle it (an endpoint name and its label)."""

    reason: str
    endpoint: str
    label: str


ADMIN_REFUSAL = ("An admin account can't be deleted from its settings: admins hold the "
                 "site's decisions and the roots of the invite tree. Ask another admin "
                 "to take over your duties and remove your admin role first.")


# an invoice the referrer may still contest, or an admin is deciding: a correction
# reverses the commission's money and may make a new one due
# (``settle_contested_invoice``)
OPEN_REVIEW_STATES = (InvoiceReview.AWAITING, InvoiceReview.CONTESTED)

# a withdrawal whose money has not left yet (its hold still open)
OPEN_WITHDRAWAL_STATES = (WithdrawalState.REQUESTED, WithdrawalState.SENDING)


def deletion_blockers(member_id: int) -> list[DeletionBlocker]:
    """What keeps the member's account from being deleted; empty when nothing does.

    Money held (available or reserved), a deposit not settled yet (money on its way
    in, which must not land on a deleted account), a withdrawal not paid out yet or
    coming back, a debt, an active project (as either party), a commission due (owed
    by them, or to them) or an invoiced amount under review (awaiting or contested).
    Reads only; ``delete_account`` asks again inside its transaction.
    """
    blockers: list[DeletionBlocker] = []
    currency = current_app.config["CURRENCY"]
    wallet = wallet_summary(member_id)
    if wallet.total > 0 or wallet.held > 0:
        reserved = (f" ({format_money(wallet.held, currency)} of it reserved for a "
                    "withdrawal or a fee not settled yet)" if wallet.held else "")
        blockers.append(DeletionBlocker(
            f"Your wallet holds {format_money(wallet.total, currency)}{reserved}. "
            "Withdraw it, and wait for what is reserved to settle, before deleting your "
            "account.", "wallet.index", "Your wallet"))
    # SUM of a BIGINT is a NUMERIC on PostgreSQL: cast back to whole minor units
    pending = db.session.execute(select(func.count(), cast(func.coalesce(func.sum(
        Deposit.amount_minor), 0), BigInteger)).where(Deposit.member_id == member_id,
                                         Deposit.state == DepositState.PENDING)).one()
    if pending[0]:
        amount = format_money(pending[1], currency)
        what = (f"A deposit of {amount} is" if pending[0] == 1
                else f"{pending[0]} deposits of {amount} in all are")
        blockers.append(DeletionBlocker(
            f"{what} not settled yet. Wait until it is paid or has failed (an unfinished "
            "Stripe payment page expires within a day), and withdraw what it added, "
            "before deleting your account.", "wallet.index", "Your wallet"))
    sending = db.session.scalar(select(cast(func.coalesce(func.sum(Withdrawal.amount_minor),
                                                          0), BigInteger))
                                .where(Withdrawal.member_id == member_id,
                                       Withdrawal.state.in_(OPEN_WITHDRAWAL_STATES)))
    if sending:
        blockers.append(DeletionBlocker(
            f"A withdrawal of {format_money(sending, currency)} is not paid out yet. "
            "Wait until it is paid (or refused, and withdraw the money again) before "
            "deleting your account.", "wallet.index", "Your wallet"))
    if db.session.scalar(select(exists().where(
            Withdrawal.member_id == member_id,
            Withdrawal.state == WithdrawalState.RETURNING))):
        blockers.append(DeletionBlocker(
            "A withdrawal came back from your bank and is on its way back to your "
            "wallet. Wait for it, and withdraw it again, before deleting your account.",
            "wallet.index", "Your wallet"))
    if wallet.owed > 0:
        blockers.append(DeletionBlocker(
            f"You owe {format_money(wallet.owed, currency)} from a deposit taken back. "
            "Pay it back first.", "wallet.index", "Your wallet"))
    if db.session.scalar(select(exists().where(
            Project.state == ProjectState.ACTIVE,
            or_(Project.poster_id == member_id, Project.performer_id == member_id)))):
        blockers.append(DeletionBlocker(
            "You have a project in progress. Complete it, or agree with the other "
            "member to cancel it, first.", "projects.mine", "Your projects"))
    if db.session.scalar(select(exists().where(
            Commission.state == CommissionState.DUE,
            or_(Commission.payer_id == member_id, Commission.referrer_id == member_id)))):
        blockers.append(DeletionBlocker(
            "A commission is still due, from you or to you. It must be paid first.",
            "projects.mine", "Your projects"))
    if db.session.scalar(select(exists().where(
            Commission.review_state.in_(OPEN_REVIEW_STATES),
            or_(Commission.payer_id == member_id, Commission.referrer_id == member_id)))):
        blockers.append(DeletionBlocker(
            "An invoiced amount is under review: the referrer may still contest it, or "
            "an admin is deciding a contest, and a correction would move the commission's "
            "money again. Wait until the review is settled (the referrer accepts, or the "
            "window closes) before deleting your account.", "projects.mine",
            "Your projects"))
    return blockers
