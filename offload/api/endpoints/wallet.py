"""The member's wallet, as the wallet pages read it (``wallet.queries``) and change it
(``wallet.services``): balances, the history, deposits and withdrawals.

Every endpoint needs the ``wallet`` scope, the GETs too: balances are money. A deposit
or a withdrawal takes an ``Idempotency-Key`` (``idempotency.py``); a retry with the same
key and body is answered as the first request was (201, the same deposit or withdrawal).
A withdrawal asks for no password: the wallet page asks for none either. Above
TWO_FACTOR_STEP_UP_MINOR, a member with two-factor log-in on is refused here (403,
``not-allowed``): the site asks them for a fresh code first (``accounts.step_up``), and a
bearer token has no second factor behind it, so such an amount is asked for on the site.
"""

from __future__ import annotations

from flask import current_app

from offload.accounts.models import TokenScope
from offload.accounts.queries import two_factor_status
from offload.core.errors import NotAllowed
from offload.core.links import external_url
from offload.core.money import format_money
from offload.wallet.queries import (
    deposit_for,
    wallet_history_page,
    wallet_summary,
    withdrawal_for,
)
from offload.wallet.services import add_funds, request_withdrawal

from ..blueprint import LINK_HEADER, bp, link, needs, problem_response
from ..idempotency import IdempotencyHeader
from ..paging import paged
from ..schemas.common import CursorQuery
from ..schemas.wallet import (
    DepositBody,
    DepositSchema,
    HistoryPageSchema,
    WalletSchema,
    WithdrawalBody,
    WithdrawalSchema,
)

WALLET = TokenScope.WALLET.value
TAGS = ["wallet"]
# the answer to a POST that created (or, retried with its key, had created) something
LOCATION = {"Location": {"description": "The URL of what was created, in the API",
                         "schema": {"type": "string", "format": "uri"}}}
NOT_YOURS = "No such {}, or another member's"
RETRY_RACE = "A twin request with this Idempotency-Key is still being processed"


@bp.route("/wallet", tags=TAGS)
@needs(WALLET)
@bp.response(200, WalletSchema)
def wallet(member):
    """The member's balances, as the wallet page shows them"""
    return wallet_summary(member.id)


@bp.route("/wallet/history", tags=TAGS)
@needs(WALLET)
@bp.arguments(CursorQuery, location="query", as_kwargs=True)
@bp.response(200, HistoryPageSchema, headers=LINK_HEADER)
def wallet_history(member, cursor: str | None = None, limit: int | None = None):
    """The wallet's statement, newest first: every transfer with the balances after it"""
    page = wallet_history_page(member.id, cursor, size=limit)
    return paged(page.items, page.next_cursor)


@bp.route("/wallet/deposits", methods=["POST"], tags=TAGS)
@needs(WALLET)
@problem_response(409, RETRY_RACE)
@bp.arguments(IdempotencyHeader, location="headers", as_kwargs=True)
@bp.arguments(DepositBody, as_kwargs=True)
@bp.response(201, DepositSchema, headers=LOCATION)
@link("TheDeposit", "/wallet/deposits/{deposit_id}", deposit_id="$response.body#/id")
def create_deposit(member, amount_minor: int, idempotency_key: str):
    """Add funds through the payment provider (the sandbox completes at once)"""
    deposit = add_funds(actor=member, amount_minor=amount_minor,
                        idempotency_key=idempotency_key)
    return _created(deposit_for(member, deposit.id),
                    external_url("api.deposit", deposit_id=deposit.id))


@bp.route("/wallet/deposits/<int:deposit_id>", tags=TAGS)
@needs(WALLET)
@problem_response(404, NOT_YOURS.format("deposit"))
@bp.response(200, DepositSchema)
def deposit(member, deposit_id: int):
    """One of the member's deposits"""
    return deposit_for(member, deposit_id)


@bp.route("/wallet/withdrawals", methods=["POST"], tags=TAGS)
@needs(WALLET)
@problem_response(409, RETRY_RACE)
@bp.arguments(IdempotencyHeader, location="headers", as_kwargs=True)
@bp.arguments(WithdrawalBody, as_kwargs=True)
@bp.response(201, WithdrawalSchema, headers=LOCATION)
@link("TheWithdrawal", "/wallet/withdrawals/{withdrawal_id}",
      withdrawal_id="$response.body#/id")
def create_withdrawal(member, amount_minor: int, payout_details: str | None,
                      idempotency_key: str):
    """Ask for a withdrawal: the amount is held until an admin pays it out.

    Above the step-up amount, a member with two-factor log-in on must ask on the site,
    which asks for their code: a 403 problem here."""
    limit = current_app.config["TWO_FACTOR_STEP_UP_MINOR"]
    if amount_minor > limit and two_factor_status(member.id).is_on:
        above = format_money(limit, current_app.config["CURRENCY"])
        raise NotAllowed(f"A withdrawal above {above} needs a code from your two-factor "
                         "app: ask for it on the site's wallet page.")
    withdrawal = request_withdrawal(actor=member, amount_minor=amount_minor,
                                    payout_details=payout_details,
                                    idempotency_key=idempotency_key)
    return _created(withdrawal_for(member, withdrawal.id),
                    external_url("api.withdrawal", withdrawal_id=withdrawal.id))


@bp.route("/wallet/withdrawals/<int:withdrawal_id>", tags=TAGS)
@needs(WALLET)
@problem_response(404, NOT_YOURS.format("withdrawal"))
@bp.response(200, WithdrawalSchema)
def withdrawal(member, withdrawal_id: int):
    """One of the member's withdrawals"""
    return withdrawal_for(member, withdrawal_id)


def _created(item, location: str):
    """201 with the new thing's API URL (a retry with its key answers the same)."""
    return item, 201, {"Location": location}
