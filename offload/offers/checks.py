"""Invariant 10 for offers: every offer's fee state matches its transfers.

Same shape as the ledger's checks (``() -> list[Failure]``), listed in
``offload.health.MONEY_CHECKS``. Each click transfer has ``Cause("offer", id)``.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased

from offload.core.db import db
from offload.ledger.checks import Check, Failure
from offload.ledger.models import AccountKind, LedgerAccount, Transfer, TransferKind, TransferState

from .models import LIVE_STATES, FeeKind, Offer, OfferState

INVARIANT = 10
CLICK_KINDS = (TransferKind.PREPAID_CLICK, TransferKind.POSTPAID_CLICK)


def _revenue_id() -> int | None:
    return db.session.scalar(select(LedgerAccount.id).where(
        LedgerAccount.owner_id.is_(None), LedgerAccount.kind == AccountKind.PLATFORM_REVENUE))


def _expected_settlement(state: str) -> str | None:
    """What a postpaid hold must have become for an offer in ``state``."""
    if state in LIVE_STATES:
        return None  # still held
    if state == OfferState.ACCEPTED:
        return TransferState.POST_PENDING
    return TransferState.VOID_PENDING


def check_offer_fees_match_transfers() -> list[Failure]:
    """10. A free offer has no click transfers; a prepaid one exactly one posted
    PREPAID_CLICK of its fee from the offerer's wallet to platform revenue; a postpaid
    one exactly one pending POSTPAID_CLICK of its fee, open while the offer is live,
    posted in full once accepted, voided once it stopped being live any other way."""
    by_offer = defaultdict(list)
    for t in db.session.execute(
            select(Transfer.id, Transfer.cause_id, Transfer.kind, Transfer.state,
                   Transfer.amount_minor, Transfer.pending_id, Transfer.debit_account_id,
                   Transfer.credit_account_id)
            .where(Transfer.cause_type == "offer")):
        by_offer[t.cause_id].append(t)
    wallet = aliased(LedgerAccount)
    rows = db.session.execute(
        select(Offer.id, Offer.state, Offer.fee_kind, Offer.fee_minor, Offer.fee_transfer_id,
               Offer.fee_settle_transfer_id, wallet.id.label("wallet_id"))
        .outerjoin(wallet, and_(wallet.owner_id == Offer.member_id,
                                wallet.kind == AccountKind.WALLET))
        .order_by(Offer.id)).all()
    revenue_id = _revenue_id()
    failures = []
    for r in rows:
        mine = by_offer.pop(r.id, [])
        problems = _problems(r, mine, revenue_id)
        if problems:
            failures.append(Failure(INVARIANT, "offer fee matches its transfers",
                                    f"offer {r.id} ({r.fee_kind}, {r.state}) "
                                    + "; ".join(problems),
                                    tuple(i for i in (r.wallet_id, revenue_id) if i)))
    for offer_id, transfers in sorted(by_offer.items()):
        failures.append(Failure(INVARIANT, "offer transfer has its offer",
                                f"transfers {', '.join(str(t.id) for t in transfers)} name "
                                f"offer {offer_id}, which doesn't exist",
                                (transfers[0].debit_account_id,
                                 transfers[0].credit_account_id)))
    return failures


def _problems(r, transfers, revenue_id) -> list[str]:
    problems = []
    if any(t.kind not in CLICK_KINDS for t in transfers):
        problems.append("has transfers that are not clicks")
    if r.fee_kind == FeeKind.FREE:
        if transfers or r.fee_transfer_id is not None:
            problems.append(f"is free but has transfers "
                            f"{', '.join(str(t.id) for t in transfers) or r.fee_transfer_id}")
        return problems
    firsts = [t for t in transfers if t.pending_id is None]
    if len(firsts) != 1:
        return [*problems, f"has {len(firsts)} fee transfers, not one"]
    fee = firsts[0]
    want_kind, want_state = ((TransferKind.PREPAID_CLICK, TransferState.POSTED)
                             if r.fee_kind == FeeKind.PREPAID
                             else (TransferKind.POSTPAID_CLICK, TransferState.PENDING))
    if (fee.kind, fee.state, fee.amount_minor) != (want_kind, want_state, r.fee_minor):
        problems.append(f"its fee transfer {fee.id} is a {fee.state} {fee.kind} of "
                        f"{fee.amount_minor}, not a {want_state} {want_kind} of {r.fee_minor}")
    if (fee.debit_account_id, fee.credit_account_id) != (r.wallet_id, revenue_id):
        problems.append(f"its fee moves {fee.debit_account_id} → {fee.credit_account_id}, not "
                        f"the offerer's wallet {r.wallet_id} → revenue {revenue_id}")
    if r.fee_transfer_id != fee.id:
        problems.append(f"names fee transfer {r.fee_transfer_id}, the ledger has {fee.id}")
    settles = [t for t in transfers if t.pending_id == fee.id]
    if r.fee_kind == FeeKind.PREPAID:
        if settles or r.fee_settle_transfer_id is not None:
            problems.append("is prepaid but its fee was settled again")
        return problems
    expected = _expected_settlement(r.state)
    got = settles[0].state if settles else None
    if got != expected:
        problems.append(f"its hold is {got or 'open'}, should be {expected or 'open'}")
    if settles and settles[0].state == TransferState.POST_PENDING \
            and settles[0].amount_minor != r.fee_minor:
        problems.append(f"only {settles[0].amount_minor} of {r.fee_minor} was charged")
    if r.fee_settle_transfer_id != (settles[0].id if settles else None):
        problems.append(f"names settlement {r.fee_settle_transfer_id}, the ledger has "
                        f"{settles[0].id if settles else 'none'}")
    return problems


def check_click_transfers_have_offers() -> list[Failure]:
    """10. Every click transfer names an offer as its cause."""
    rows = db.session.execute(
        select(Transfer.id, Transfer.kind, Transfer.cause_type, Transfer.cause_id,
               Transfer.debit_account_id, Transfer.credit_account_id)
        .where(Transfer.kind.in_(CLICK_KINDS),
               or_(Transfer.cause_type.is_distinct_from("offer"), Transfer.cause_id.is_(None)))
        .order_by(Transfer.id)).all()
    return [Failure(INVARIANT, "click transfer has its offer",
                    # type and id: a cause ("offer", None) names no offer either
                    f"{r.kind} transfer {r.id} (cause {r.cause_type}:{r.cause_id}) names "
                    "no offer as its cause",
                    (r.debit_account_id, r.credit_account_id)) for r in rows]


OFFER_CHECKS: tuple[Check, ...] = (check_offer_fees_match_transfers,
                                   check_click_transfers_have_offers)
