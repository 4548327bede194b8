"""Helpers for the ledger tests: open and fund accounts, read counters straight from the rows."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import func, select

from offload.core.db import atomic, db
from offload.ledger.models import AccountKind, LedgerAccount, Transfer, TransferKind
from offload.ledger.services import Cause, Leg, post_transfer, system_account, wallet_account

# Money in from and out to the external account moves as plain transfers here: DEPOSIT
# and WITHDRAWAL transfers must belong to the wallet's deposit and withdrawal rows
# (invariant 10, offload/wallet/checks.py), which the ledger's own tests don't create.
MONEY_IN = MONEY_OUT = TransferKind.TRANSFER


class Counters(NamedTuple):
    debits_pending: int
    debits_posted: int
    credits_pending: int
    credits_posted: int

    @property
    def balance(self) -> int:
        return self.credits_posted - self.debits_posted

    @property
    def available(self) -> int:
        return self.balance - self.debits_pending


def counters(account_id: int) -> Counters:
    """The account's four counters as stored now (a Core read: no identity-map staleness)."""
    row = db.session.execute(select(
        LedgerAccount.debits_pending, LedgerAccount.debits_posted,
        LedgerAccount.credits_pending, LedgerAccount.credits_posted)
        .where(LedgerAccount.id == account_id)).one()
    return Counters(*map(int, row))


def open_wallet(member_id: int) -> int:
    with atomic():
        return wallet_account(member_id).id


def open_system(kind: AccountKind) -> int:
    with atomic():
        return system_account(kind).id


def deposit(wallet_id: int, amount: int) -> Transfer:
    """Money in from the outside world, posted at once."""
    external = open_system(AccountKind.EXTERNAL)
    return post_transfer(Leg(external, wallet_id, amount, MONEY_IN),
                         cause=Cause("top-up"), actor_id=None)


def transfer_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Transfer))


def batch_sizes() -> dict[str, int]:
    """Number of legs per batch id (resolutions of reservations are batches of one)."""
    return dict(db.session.execute(
        select(Transfer.batch_id, func.count()).group_by(Transfer.batch_id)).all())
