"""Invariant 10 for commissions: every commission's state matches its transfers.

A paid commission has exactly its batch: two posted COMMISSION legs from the payer's
wallet, its platform part to platform revenue and its referrer part to the referrer's
wallet; a due one has no transfers standing; every COMMISSION transfer names a
commission. After an admin's invoice correction a commission may also have an earlier
batch: each of its legs reversed exactly once (a REVERSAL transfer with the opposite
accounts and the same amount), and only a corrected commission has one.
Listed in ``offload.health.MONEY_CHECKS``.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from offload.core.db import db
from offload.ledger.checks import Check, Failure
from offload.ledger.models import AccountKind, LedgerAccount, Transfer, TransferKind, TransferState

from .models import Commission, CommissionState

INVARIANT = 10


def check_commissions_match_transfers() -> list[Failure]:
    by_commission = defaultdict(list)
    for t in db.session.execute(
            select(Transfer.id, Transfer.cause_type, Transfer.cause_id, Transfer.batch_id,
                   Transfer.state, Transfer.amount_minor, Transfer.debit_account_id,
                   Transfer.credit_account_id)
            .where(Transfer.kind == TransferKind.COMMISSION)):
        by_commission[(t.cause_type, t.cause_id)].append(t)
    reversals = defaultdict(list)  # reversed transfer id → its reversals
    for r in db.session.execute(
            select(Transfer.id, Transfer.reverses_id, Transfer.amount_minor,
                   Transfer.debit_account_id, Transfer.credit_account_id)
            .where(Transfer.kind == TransferKind.REVERSAL,
                   Transfer.cause_type == "commission")):
        reversals[r.reverses_id].append(r)
    wallets = dict(db.session.execute(select(LedgerAccount.owner_id, LedgerAccount.id).where(
        LedgerAccount.kind == AccountKind.WALLET, LedgerAccount.owner_id.in_(
            select(Commission.payer_id).union(select(Commission.referrer_id))))).all())
    revenue = db.session.scalar(select(LedgerAccount.id).where(
        LedgerAccount.owner_id.is_(None), LedgerAccount.kind == AccountKind.PLATFORM_REVENUE))
    failures = []
    for c in db.session.scalars(select(Commission).order_by(Commission.id)):
        all_legs = by_commission.pop(("commission", c.id), [])
        payer, referrer = wallets.get(c.payer_id), wallets.get(c.referrer_id)
        problems = []
        # legs of an earlier batch, reversed by a correction, no longer stand
        legs = [t for t in all_legs if c.batch_id is not None and t.batch_id == c.batch_id
                or not reversals.get(t.id)]
        for t in all_legs:
            undone = reversals.pop(t.id, [])
            if len(undone) > 1 or any((r.debit_account_id, r.credit_account_id,
                                       r.amount_minor) != (t.credit_account_id,
                                                           t.debit_account_id,
                                                           t.amount_minor) for r in undone):
                problems.append(f"leg {t.id} is reversed by {[r.id for r in undone]}, "
                                "not by one opposite transfer")
            if undone and c.corrected_from_minor is None:
                problems.append(f"leg {t.id} is reversed but the commission was never "
                                "corrected")
            if undone and t.batch_id == c.batch_id:
                problems.append(f"leg {t.id} of its current batch is reversed")
        if c.state == CommissionState.DUE:
            if legs:
                problems.append(f"is due but has transfers {[t.id for t in legs]}")
        else:
            want = sorted([(payer, revenue, c.platform_minor), (payer, referrer,
                                                                c.referrer_minor)])
            got = sorted((t.debit_account_id, t.credit_account_id, t.amount_minor)
                         for t in legs)
            if got != want:
                problems.append(f"is paid with legs {got}, not {want}")
            if any(t.state != TransferState.POSTED or t.batch_id != c.batch_id for t in legs):
                problems.append(f"has legs outside its posted batch {c.batch_id}")
        if c.platform_minor + c.referrer_minor != c.commission_minor:
            problems.append("its parts don't add up to the commission")
        if problems:
            failures.append(Failure(INVARIANT, "commission matches its transfers",
                                    f"commission {c.id} " + "; ".join(problems),
                                    tuple(i for i in (payer, referrer, revenue) if i)))
    for reversed_id, undone in sorted(reversals.items(), key=str):
        failures.append(Failure(INVARIANT, "commission reversal reverses a commission leg",
                                f"reversals {[r.id for r in undone]} name commission but "
                                f"reverse transfer {reversed_id}, no commission leg",
                                (undone[0].debit_account_id, undone[0].credit_account_id)))
    for (cause_type, cause_id), legs in sorted(by_commission.items(), key=str):
        failures.append(Failure(INVARIANT, "commission transfer has its commission",
                                f"commission transfers {[t.id for t in legs]} name "
                                f"{cause_type}:{cause_id}, which is no commission",
                                (legs[0].debit_account_id, legs[0].credit_account_id)))
    return failures


COMMISSION_CHECKS: tuple[Check, ...] = (check_commissions_match_transfers,)
