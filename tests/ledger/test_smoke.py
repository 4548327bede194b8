import pytest

from offload.core.db import db
from offload.ledger.checks import run_checks
from offload.ledger.models import AccountKind, LedgerAccount, TransferKind
from offload.ledger.services import (Cause, Idempotency, InsufficientFunds, Leg, post_reservation,
                                     post_transfer, reserve, system_account, void_reservation,
                                     wallet_account)
from offload.core.errors import Conflict


def test_deposit_reserve_post_void_roundtrip(make_member):
    alice = make_member("alice")
    ext = system_account(AccountKind.EXTERNAL).id
    wallet = wallet_account(alice.id).id
    db.session.commit()
    post_transfer(Leg(ext, wallet, 1000, TransferKind.DEPOSIT), cause=Cause("deposit", 1),
                  actor_id=alice.id, idempotency=Idempotency(alice.id, "k1", {"a": 1000}))
    again = post_transfer(Leg(ext, wallet, 1000, TransferKind.DEPOSIT), cause=Cause("deposit", 1),
                          actor_id=alice.id, idempotency=Idempotency(alice.id, "k1", {"a": 1000}))
    acct = db.session.get(LedgerAccount, wallet, populate_existing=True)
    assert acct.balance == 1000 and again is not None
    hold = reserve(Leg(wallet, ext, 600, TransferKind.WITHDRAWAL), cause=Cause("w", 1),
                   actor_id=alice.id)
    with pytest.raises(InsufficientFunds):
        reserve(Leg(wallet, ext, 500, TransferKind.WITHDRAWAL), cause=Cause("w", 2),
                actor_id=alice.id)
    post_reservation(hold.id, amount=400, actor_id=None)
    with pytest.raises(Conflict):
        void_reservation(hold.id, actor_id=None)
    acct = db.session.get(LedgerAccount, wallet, populate_existing=True)
    assert (acct.balance, acct.available, acct.held) == (600, 600, 0)
    assert run_checks() == []
