"""The expiry job and offers on the same members at once: no deadlock (PostgreSQL).

The expiry job releases every postpaid hold on the gigs it closes, in one
transaction. Each release touches the offerer's wallet and platform revenue. Early
members' wallets have lower ids than the revenue account (it is created on the first
fee), later members' wallets higher ones. Released one by one, the job locked revenue
with the first (late) wallet and then the early wallets below it, while an early
member's offer locks its wallet, then revenue: a deadlock, one side rolled back
(9 in 13 rounds over HTTP). The ledger now locks every account a transaction will
touch up front, in one ascending order.

Deadlocks are counted two ways: the retries ``transactional`` logs (and any deadlock
that escaped them), and the server's own ``pg_stat_database.deadlocks``.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from offload.accounts.models import User
from offload.core.db import atomic, db, utcnow
from offload.gigs.models import Gig, GigState
from offload.gigs.services import expire_gigs
from offload.ledger.models import AccountKind
from offload.ledger.services import system_account, wallet_account
from offload.offers.models import Offer
from tests.support.factories import in_days

ROUNDS = 12
EARLY, LATE = 3, 3


class _RetryCounter(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.deadlocks = 0

    def emit(self, record):
        if record.getMessage().startswith("retrying") and "40P01" in record.getMessage():
            self.deadlocks += 1


def _server_deadlocks() -> int:
    db.session.rollback()
    db.session.execute(text("SELECT pg_stat_clear_snapshot()"))
    return db.session.scalar(text(
        "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()"))


def _sqlstate(error: BaseException) -> str | None:
    return getattr(getattr(error, "orig", None), "sqlstate", None)


@pytest.mark.postgres_only
def test_expiry_job_and_offers_on_early_members_never_deadlock(
        make_member, make_gig, make_offer, fund, race):
    poster = make_member("poster")
    early = [make_member(f"early{i}") for i in range(EARLY)]
    for member in early:
        fund(member, 60_00)
    with atomic():  # revenue after the early wallets, before the late ones
        revenue_id = system_account(AccountKind.PLATFORM_REVENUE).id
    late = [make_member(f"late{i}") for i in range(LATE)]
    for member in late:
        fund(member, 60_00)
    wallets = [wallet_account(m.id).id for m in early + late]
    assert max(wallets[:EARLY]) < revenue_id < min(wallets[EARLY:])
    early_ids = [m.id for m in early]

    counter = _RetryCounter()
    logging.getLogger("offload.db").addHandler(counter)
    server_before = _server_deadlocks()
    escaped, others, expired = [], [], 0
    try:
        for _ in range(ROUNDS):
            # a gig the job expires, holding late fees first, then early ones
            expiring = make_gig(poster=poster, kind="task", deadline=in_days(5))
            for member in late + early:
                make_offer(expiring, member)
            fresh_id = make_gig(poster=poster, kind="task", deadline=in_days(30)).id

            def work(i, fresh_id=fresh_id):
                if i == 0:
                    return expire_gigs(now=utcnow() + timedelta(days=6))
                actor = db.session.get(User, early_ids[i - 1])
                return make_offer(db.session.get(Gig, fresh_id), actor).id

            results, errors = race(1 + EARLY, work)
            escaped += [e for e in errors if _sqlstate(e) == "40P01"]
            others += [e for e in errors if _sqlstate(e) != "40P01"]
            expired += db.session.get(Gig, expiring.id).state == GigState.EXPIRED
    finally:
        logging.getLogger("offload.db").removeHandler(counter)
    server_deadlocks = _server_deadlocks() - server_before
    assert not others, others
    assert (counter.deadlocks, len(escaped), server_deadlocks, expired) == (0, 0, 0, ROUNDS)


def test_a_job_that_loses_a_deadlock_is_retried(monkeypatch, make_gig, make_offer,
                                                make_member, fund):
    """Jobs retry 40001/40P01 as requests do (the expiry job used to exit 1)."""
    from offload.gigs import services

    offerer = make_member("offerer")
    fund(offerer, 10_00)
    gig = make_gig(kind="task", deadline=in_days(5))
    offer_id = make_offer(gig, offerer).id
    calls = []
    real = services.move_gigs

    def deadlock_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise DBAPIError("UPDATE gigs", {}, _Deadlock())
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "move_gigs", deadlock_once)
    assert expire_gigs(now=utcnow() + timedelta(days=6)) == 1
    assert len(calls) == 2
    db.session.rollback()
    assert db.session.get(Gig, gig.id).state == GigState.EXPIRED
    assert wallet_account(offerer.id).available == 10_00  # the hold released, once
    assert db.session.get(Offer, offer_id).fee_settle_transfer_id is not None


class _Deadlock(Exception):
    sqlstate = "40P01"
