"""The money check tells the truth while money moves.

Every check reads in one snapshot, so a business event is either wholly in what the
check sees or not at all. Read statement by statement (READ COMMITTED on PostgreSQL),
an event committed between two reads made the check report broken invariants that
were not broken: "Stop paying out" on the admin page, exit 1 from ``flask ledger check``.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select, text

from offload.accounts.models import User
from offload.core.db import atomic, db
from offload.gigs.models import Gig
from offload.health import MONEY_CHECKS
from offload.ledger.checks import Failure, run_checks
from offload.ledger.models import LedgerAccount, Transfer
from offload.offers.models import Offer
from offload.offers.services import make_offer, withdraw_offer
from offload.wallet.services import add_funds, request_withdrawal

ROUNDS = 30
_keys = iter(range(1, 10**9))


def key(prefix: str) -> str:
    return f"{prefix}-{next(_keys)}"


def test_the_checks_see_one_snapshot_while_a_business_event_commits_between_them(
        app, make_member, fund):
    """A deterministic version of the race: an event commits (on its own connection)
    between two checks of one run; both checks see the same ledger."""
    member = make_member()
    fund(member, 10_00)
    member_id = member.id
    seen: list[int] = []

    def count_transfers() -> list[Failure]:
        seen.append(db.session.scalar(select(func.count()).select_from(Transfer)))
        return []

    def commit_a_deposit_elsewhere() -> list[Failure]:
        with app.app_context():  # another session and connection, as another request
            add_funds(actor=db.session.get(User, member_id), amount_minor=5_00,
                      idempotency_key=key("between"))
        return []

    assert run_checks((count_transfers, commit_a_deposit_elsewhere, count_transfers,
                       *MONEY_CHECKS)) == []
    assert seen[0] == seen[1]
    db.session.rollback()  # the test's own read transaction: a new snapshot
    assert db.session.scalar(select(func.count()).select_from(Transfer)) == seen[0] + 1


def test_the_checks_never_join_the_callers_transaction(make_member, fund):
    """Called inside a write transaction, the checks read committed data on their own
    connection: the caller's unfinished writes are not theirs to judge (and on SQLite
    the read doesn't wait for the caller's write lock)."""
    fund(make_member(), 10_00)
    with atomic():
        db.session.execute(text("UPDATE ledger_accounts SET credits_posted = "
                                "credits_posted + 1"))
        started = time.monotonic()
        assert run_checks(MONEY_CHECKS) == []
        assert time.monotonic() - started < 5
        db.session.rollback()


def test_the_checks_read_a_read_only_snapshot(make_member, fund):
    fund(make_member(), 10_00)
    settings: list[tuple] = []

    def record_settings() -> list[Failure]:
        if db.session.get_bind().dialect.name == "postgresql":
            settings.append(tuple(db.session.scalar(text(f"SHOW {name}")) for name in
                                  ("transaction_isolation", "transaction_read_only")))
        else:
            settings.append((db.session.connection().connection.dbapi_connection
                             .in_transaction,))
        return []

    assert run_checks((record_settings,)) == []
    assert settings in ([("repeatable read", "on")], [(True,)])


@pytest.mark.postgres_only
def test_no_false_alarm_while_offers_withdrawals_and_deposits_run(
        app, client, login, make_member, make_gig, fund):
    """30 full checks (in turn ``run_checks``, ``flask ledger check`` and the admin
    page) while three other connections make and withdraw offers with fees, request
    withdrawals and add funds through the real services: every check passes (read
    statement by statement, a third to half of them failed)."""
    login(make_member("admin", admin=True))
    cli = app.test_cli_runner()

    def check_function() -> str:
        return "\n".join(map(str, run_checks(MONEY_CHECKS)))

    def check_command() -> str:
        result = cli.invoke(args=["ledger", "check"])
        return "" if result.exit_code == 0 else result.output

    def admin_page() -> str:
        page = client.get("/admin")
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        return body if "The ledger check failed" in body else ""

    poster = make_member("poster")
    gig_ids = [make_gig(poster=poster, kind="task").id for _ in range(60)]
    members = [make_member(f"worker{i}") for i in range(3)]
    for member in members:
        fund(member, 1000_00)
    member_ids = [m.id for m in members]
    stop = threading.Event()
    errors: list[BaseException] = []
    events = [0, 0, 0]

    def offers(n: int) -> None:  # prepaid and postpaid fees; withdrawn ones void holds
        me = db.session.get(User, member_ids[n])
        for i, gig_id in enumerate(gig_ids):
            if stop.is_set():
                return
            offer = make_offer(db.session.get(Gig, gig_id), actor=me, price_minor=400_00,
                               days_to_deliver=10, cover_letter="I have done this before.",
                               fee_kind="prepaid" if i % 3 == 0 else "postpaid",
                               idempotency_key=key("offer"))
            if i % 2:
                withdraw_offer(db.session.get(Offer, offer.id), actor=me)
            db.session.rollback()
            events[n] += 1

    def money(n: int) -> None:  # deposits (posted) and withdrawals (held)
        me = db.session.get(User, member_ids[n])
        while not stop.is_set():
            add_funds(actor=me, amount_minor=7_00, idempotency_key=key("deposit"))
            request_withdrawal(actor=me, amount_minor=5_00, payout_details="IBAN DE89 3704",
                               idempotency_key=key("withdrawal"))
            db.session.rollback()
            events[n] += 1

    def writer(work, n: int) -> None:
        with app.app_context():
            try:
                while not stop.is_set():
                    work(n)
                    if work is offers:
                        return
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=writer, args=(work, n))
               for n, work in enumerate((offers, offers, money))]
    for t in threads:
        t.start()
    alarms: list[str] = []
    ways = (check_function, check_command, admin_page)
    try:
        for n in range(ROUNDS):
            alarm = ways[n % len(ways)]()
            if alarm:
                alarms.append(f"{ways[n % len(ways)].__name__}: {alarm}")
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert not errors, errors
    assert min(events) > 0, events  # the writers really ran alongside the checks
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(LedgerAccount)) > 3
    by_way = {w.__name__: sum(a.startswith(w.__name__) for a in alarms) for w in ways}
    print(f"false alarms: {len(alarms)} of {ROUNDS} checks {by_way}; events {events}")
    assert not alarms, f"{len(alarms)} of {ROUNDS} checks failed, first: {alarms[0][:2000]}"
