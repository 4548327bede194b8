"""Invariants 9 and 10 for milestones, against their escrow holds.

9. Per milestone: funded = released + refunded + still held (the hold's amount is the
   milestone's; its settlement posted all, part or none of it); nothing is held once
   the project has closed.
10. Each milestone's state matches its hold: draft/removed none; funded/delivered an
   open ESCROW hold customer → performer; released posted in full; refunded voided.
Listed in ``offload.health.MONEY_CHECKS``.
"""

from __future__ import annotations

from functools import cache

from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from offload.core.db import db
from offload.ledger.checks import Check, Failure, with_hold
from offload.ledger.models import AccountKind, LedgerAccount, Transfer, TransferKind, TransferState
from offload.projects.models import Project, ProjectState

from .models import HELD_STATES, Milestone, MilestoneState

SETTLEMENT = {MilestoneState.RELEASED: TransferState.POST_PENDING,
              MilestoneState.SPLIT: TransferState.POST_PENDING,
              MilestoneState.REFUNDED: TransferState.VOID_PENDING}


@cache
def _milestone_rows():
    """Each milestone with its project, wallets, hold and settlement (built once: the
    statement is the same every run, and building it costs more than running it)."""
    customer, performer = aliased(LedgerAccount), aliased(LedgerAccount)
    return with_hold(
        select(Milestone.id, Milestone.state, Milestone.amount_minor,
               Milestone.hold_transfer_id, Milestone.settle_transfer_id,
               Project.state.label("project_state"),
               customer.id.label("customer_wallet"), performer.id.label("performer_wallet"))
        .join(Project, Project.id == Milestone.project_id)
        .outerjoin(customer, and_(customer.owner_id == Project.poster_id,
                                  customer.kind == AccountKind.WALLET))
        .outerjoin(performer, and_(performer.owner_id == Project.performer_id,
                                   performer.kind == AccountKind.WALLET)),
        Milestone.hold_transfer_id).order_by(Milestone.id)


def check_milestones_match_holds() -> list[Failure]:
    rows = db.session.execute(_milestone_rows()).all()
    failures = []
    for r in rows:
        problems, invariant = [], 10
        if r.state in (MilestoneState.DRAFT, MilestoneState.REMOVED):
            if r.hold_transfer_id is not None:
                problems.append(f"is {r.state} but names hold {r.hold_transfer_id}")
        elif r.hold_id is None:
            problems.append(f"is {r.state} but has no hold")
        else:
            if (r.hold_kind, r.hold_state, r.held) != (TransferKind.ESCROW,
                                                       TransferState.PENDING, r.amount_minor):
                problems.append(f"its hold {r.hold_id} is a {r.hold_state} {r.hold_kind} of "
                                f"{r.held}, not a pending escrow of {r.amount_minor}")
            if (r.hold_debit, r.hold_credit) != (r.customer_wallet, r.performer_wallet):
                problems.append(f"its hold moves {r.hold_debit} → {r.hold_credit}, not the "
                                f"customer's wallet → the performer's")
            if (r.cause_type, r.cause_id) != ("milestone", r.id):
                problems.append(f"its hold names {r.cause_type}:{r.cause_id} as its cause")
            want = SETTLEMENT.get(r.state)
            if r.settle_state != want:
                problems.append(f"its hold is {r.settle_state or 'open'}, should be "
                                f"{want or 'open'}")
            if r.state == MilestoneState.RELEASED and r.settled != r.held:
                problems.append(f"released {r.settled} of {r.held}")
            if r.state == MilestoneState.SPLIT and r.settled is not None \
                    and not 0 < r.settled < r.held:
                problems.append(f"split {r.settled} of {r.held}, not a part of it")
            if r.settle_transfer_id != r.settle_id:
                problems.append(f"names settlement {r.settle_transfer_id}, the ledger has "
                                f"{r.settle_id}")
            if r.state in HELD_STATES and r.project_state != ProjectState.ACTIVE:
                invariant = 9
                problems.append(f"still holds {r.held} after its project was {r.project_state}")
        if problems:
            failures.append(Failure(invariant, "milestone matches its escrow",
                                    f"milestone {r.id} ({r.state}) " + "; ".join(problems),
                                    tuple(i for i in (r.customer_wallet, r.performer_wallet)
                                          if i)))
    orphans = db.session.execute(
        select(Transfer.id, Transfer.debit_account_id, Transfer.credit_account_id)
        .where(Transfer.kind == TransferKind.ESCROW, Transfer.pending_id.is_(None),
               ~select(Milestone.id).where(Milestone.hold_transfer_id == Transfer.id)
               .exists())).all()
    failures += [Failure(10, "escrow transfer has its milestone",
                         f"escrow hold {o.id} belongs to no milestone",
                         (o.debit_account_id, o.credit_account_id)) for o in orphans]
    return failures


MILESTONE_CHECKS: tuple[Check, ...] = (check_milestones_match_holds,)
