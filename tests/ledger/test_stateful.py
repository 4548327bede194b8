"""The ledger against a plain Python model, driven by Hypothesis.

Three members' wallets, the external account (deposits and payouts) and platform
revenue (postpaid clicks are reserved to it). Hypothesis picks sequences of deposits,
transfers, reservations, full and partial posts, voids, withdrawals, retries of earlier
requests with their idempotency keys, and attempts that must be refused (overdrafts,
second resolutions, a key reused for another request). After every step the database's
counters equal the model's, the number of transfer rows is what the model expects, and
every invariant holds.

Each example gets three fresh members whose wallets start with $50.00 (so that most
steps go through rather than being refused). 20 examples of up to 30 steps take about
20 s; a failure is shrunk to a short sequence, which can take Hypothesis a few minutes.
Checked by hand: breaking partial posts (always post in full), replays (post again) or
the overdraft guard makes this test fail within seconds.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select

from offload.accounts.models import User
from offload.core.db import db
from offload.core.errors import Conflict
from offload.ledger.checks import run_checks
from offload.ledger.models import AccountKind, LedgerAccount, TransferKind
from offload.ledger.services import (
    Batch,
    Cause,
    Idempotency,
    InsufficientFunds,
    Leg,
    post_batch,
    post_reservation,
    void_reservation,
)

from .support import (
    MONEY_IN,
    MONEY_OUT,
    counters,
    open_system,
    open_wallet,
    transfer_count,
)

MEMBERS = 3
START = 5000
_names = itertools.count(1)
wallet_index = st.integers(min_value=0, max_value=MEMBERS - 1)
amounts = st.integers(min_value=1, max_value=3000)


@dataclass
class Request:
    """A request that succeeded, kept to be sent again with the same key."""

    member_id: int
    key: str
    request: dict
    legs: list[Leg]
    pending: bool
    batch: Batch


@dataclass
class Reservation:
    id: int
    debit: int
    credit: int
    amount: int
    request: Request
    resolved: bool = False


class LedgerMachine(RuleBasedStateMachine):
    requests = Bundle("requests")
    reservations = Bundle("reservations")

    def __init__(self):
        super().__init__()
        # Every example gets fresh members (emptying ~30 tables per example costs more than
        # the example on PostgreSQL); the shared system accounts start from what they hold.
        users = [User(username=f"model{n}", email=f"model{n}@example.com", password_hash="-",
                      display_name="Model") for n in (next(_names) for _ in range(MEMBERS))]
        db.session.add_all(users)
        db.session.commit()
        self.members = [u.id for u in users]
        self.wallets = [open_wallet(m) for m in self.members]
        self.external = open_system(AccountKind.EXTERNAL)
        self.revenue = open_system(AccountKind.PLATFORM_REVENUE)
        # debits_pending, debits_posted, credits_pending, credits_posted
        self.model = {a: list(counters(a)) for a in [*self.wallets, self.external, self.revenue]}
        self.transfers = transfer_count()
        self.keys = itertools.count(1)
        for who in range(MEMBERS):  # start with money, so that most steps can go through
            self.deposit(who, START)

    # --- the model -------------------------------------------------------------------

    def available(self, account: int) -> int:
        dp, dpost, _, cpost = self.model[account]
        return cpost - dpost - dp

    def book(self, debit: int, credit: int, amount: int, *, pending: bool) -> None:
        self.model[debit][0 if pending else 1] += amount
        self.model[credit][2 if pending else 3] += amount
        self.transfers += 1

    def settle(self, r: Reservation, posted: int) -> None:
        self.model[r.debit][0] -= r.amount
        self.model[r.debit][1] += posted
        self.model[r.credit][2] -= r.amount
        self.model[r.credit][3] += posted
        self.transfers += 1
        r.resolved = True

    def send(self, member: int, legs: list[Leg], request: dict, *, pending: bool = False):
        """Send a new request with a fresh key; the Request if it went through, else None."""
        key = f"k{next(self.keys)}"
        idem = Idempotency(member, key, request)
        payer = legs[0].debit_id
        if payer != self.external and self.available(payer) < sum(leg.amount for leg in legs):
            with pytest.raises(InsufficientFunds):
                post_batch(legs, cause=Cause("model"), actor_id=member, idempotency=idem,
                           pending=pending)
            return None
        batch = post_batch(legs, cause=Cause("model"), actor_id=member, idempotency=idem,
                           pending=pending)
        assert not batch.replayed and len(batch.transfer_ids) == len(legs)
        for leg in legs:
            self.book(leg.debit_id, leg.credit_id, leg.amount, pending=pending)
        return Request(member, key, request, legs, pending, batch)

    # --- rules -----------------------------------------------------------------------

    @rule(target=requests, who=wallet_index, amount=amounts)
    def deposit(self, who, amount):
        leg = Leg(self.external, self.wallets[who], amount, MONEY_IN)
        return self.send(self.members[who], [leg], {"deposit": amount})

    @rule(target=requests, who=wallet_index, to=st.integers(1, MEMBERS - 1), amount=amounts)
    def transfer(self, who, to, amount):
        payee = self.wallets[(who + to) % MEMBERS]
        leg = Leg(self.wallets[who], payee, amount, TransferKind.TRANSFER)
        sent = self.send(self.members[who], [leg], {"transfer": amount, "to": payee})
        return multiple() if sent is None else sent

    @rule(target=requests, who=wallet_index, to=st.integers(1, MEMBERS - 1),
          amounts=st.tuples(amounts, amounts))
    def pay_two(self, who, to, amounts):
        """A two-leg batch (a payment and its fee): both legs or neither."""
        payee = self.wallets[(who + to) % MEMBERS]
        legs = [Leg(self.wallets[who], payee, amounts[0], TransferKind.TRANSFER),
                Leg(self.wallets[who], self.revenue, amounts[1], TransferKind.TRANSFER)]
        sent = self.send(self.members[who], legs, {"pay": amounts, "to": payee})
        return multiple() if sent is None else sent

    @rule(target=reservations, who=wallet_index, amount=amounts)
    def reserve(self, who, amount):
        wallet = self.wallets[who]
        leg = Leg(wallet, self.revenue, amount, TransferKind.TRANSFER)
        sent = self.send(self.members[who], [leg], {"hold": amount}, pending=True)
        if sent is None:
            return multiple()
        return Reservation(sent.batch.transfer_ids[0], wallet, self.revenue, amount, sent)

    @rule(r=reservations)
    def post_in_full(self, r):
        self.resolve(r, lambda: post_reservation(r.id, actor_id=None), r.amount)

    @rule(r=reservations, data=st.data())
    def post_in_part(self, r, data):
        amount = data.draw(st.integers(min_value=1, max_value=r.amount), label="posted")
        self.resolve(r, lambda: post_reservation(r.id, amount=amount, actor_id=None), amount)

    @rule(r=reservations)
    def void(self, r):
        self.resolve(r, lambda: void_reservation(r.id, actor_id=None), 0)

    def resolve(self, r: Reservation, operation, posted: int) -> None:
        if r.resolved:  # a second resolution: refused, nothing moves
            with pytest.raises(Conflict):
                operation()
            return
        resolution = operation()
        assert resolution.pending_id == r.id
        self.settle(r, posted)

    @rule(who=wallet_index, amount=amounts)
    def withdraw(self, who, amount):
        """A payout: held at once, then marked paid (the hold is posted to external)."""
        wallet = self.wallets[who]
        leg = Leg(wallet, self.external, amount, MONEY_OUT)
        sent = self.send(self.members[who], [leg], {"withdraw": amount}, pending=True)
        if sent is not None:
            r = Reservation(sent.batch.transfer_ids[0], wallet, self.external, amount, sent)
            post_reservation(r.id, actor_id=None)
            self.settle(r, amount)

    @rule(who=wallet_index, extra=st.integers(min_value=1, max_value=500))
    def overdraw(self, who, extra):
        wallet = self.wallets[who]
        leg = Leg(wallet, self.revenue, max(self.available(wallet), 0) + extra,
                  TransferKind.TRANSFER)
        assert self.send(self.members[who], [leg], {"overdraw": leg.amount}) is None

    @rule(req=requests)
    def retry(self, req):
        """The same key and request again (a double click): the first outcome, no effect."""
        again = post_batch(req.legs, cause=Cause("model"), actor_id=req.member_id,
                           idempotency=Idempotency(req.member_id, req.key, req.request),
                           pending=req.pending)
        assert again.replayed
        assert (again.batch_id, again.transfer_ids) == (req.batch.batch_id,
                                                        req.batch.transfer_ids)

    @rule(r=reservations)
    def retry_reservation(self, r):
        """A hold sent again, before or after it was resolved: still one hold."""
        self.retry(r.request)

    @rule(req=requests, amount=amounts)
    def reuse_key_for_another_request(self, req, amount):
        changed = {**req.request, "changed": amount}
        with pytest.raises(Conflict):
            post_batch(req.legs, cause=Cause("model"), actor_id=req.member_id,
                       idempotency=Idempotency(req.member_id, req.key, changed),
                       pending=req.pending)

    # --- after every step --------------------------------------------------------------

    @invariant()
    def database_equals_model(self):
        stored = {row[0]: list(row[1:]) for row in db.session.execute(select(
            LedgerAccount.id, LedgerAccount.debits_pending, LedgerAccount.debits_posted,
            LedgerAccount.credits_pending, LedgerAccount.credits_posted)
            .where(LedgerAccount.id.in_(self.model)))}
        assert stored == self.model
        assert transfer_count() == self.transfers

    @invariant()
    def ledger_invariants_hold(self):
        assert run_checks() == []


def test_the_ledger_behaves_like_the_model():
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=20, stateful_step_count=30, deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]))
