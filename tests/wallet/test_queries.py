"""Wallet reads: balances, the history and its states, pages, revenue, the admin queue."""

from __future__ import annotations

import pytest
from sqlalchemy import or_, select

from offload.core.db import db
from offload.ledger.models import AccountKind, Transfer, TransferKind, TransferState
from offload.ledger.services import (
    Cause,
    Leg,
    post_reservation,
    post_transfer,
    reserve,
    system_account,
    void_reservation,
    wallet_account,
)
from offload.wallet.queries import (
    LineState,
    LineStep,
    WalletSummary,
    count_pending_withdrawals,
    pending_withdrawals_page,
    platform_revenue,
    recent_withdrawals,
    wallet_history_page,
    wallet_summary,
)
from offload.wallet.services import mark_withdrawal_paid, reject_withdrawal
from tests.support.factories import PASSWORD


def _fee(member, amount: int, *, pending: bool = False, memo: str = ""):
    """A payment from the member's wallet to the platform, posted or reserved.

    Not a click: click transfers must belong to real offers (the offer checks), and this
    one is also posted in part, which offers never do.
    """
    leg = Leg(wallet_account(member.id).id, system_account(AccountKind.PLATFORM_REVENUE).id,
              amount, TransferKind.TRANSFER, memo=memo)
    operation = reserve if pending else post_transfer
    transfer = operation(leg, cause=Cause("sample", 7), actor_id=member.id)
    db.session.commit()
    return transfer


def test_a_member_without_a_wallet_has_zero_everything(make_member):
    alice = make_member("alice")
    assert wallet_summary(alice.id) == WalletSummary(0, 0, 0)
    page = wallet_history_page(alice.id, None)
    assert page.items == [] and page.next_cursor is None and page.is_first
    assert platform_revenue() == 0


def test_balances_split_available_and_held(make_member, fund, withdraw):
    alice = make_member("alice")
    fund(alice, 50_00)
    withdraw(alice, 15_00)
    assert wallet_summary(alice.id) == WalletSummary(available=35_00, held=15_00, total=50_00)


def test_history_says_what_each_line_is_and_its_state(make_member, admin, fund, withdraw):
    alice = make_member("alice")
    deposit = fund(alice, 100_00)
    paid, rejected, open_ = withdraw(alice, 10_00), withdraw(alice, 20_00), withdraw(alice, 5_00)
    mark_withdrawal_paid(paid, actor=admin, reason="Paid", password=PASSWORD)
    reject_withdrawal(rejected, actor=admin, reason="No", password=PASSWORD)
    fee = _fee(alice, 3_00, memo="Contact: gig 7")
    partial = _fee(alice, 6_00, pending=True)
    charge = post_reservation(partial.id, amount=4_00, actor_id=None)
    db.session.commit()

    lines = wallet_history_page(alice.id, None).items
    # a hold's post and its release are lines of their own, with the balances after each
    assert [(line.label, line.amount_minor, line.state, line.available_after,
             line.held_after) for line in lines] == [
        ("Transfer: hold charged", -4_00, LineState.CHARGED, 78_00, 5_00),
        ("Transfer", -6_00, LineState.CHARGED, 76_00, 11_00),
        ("Transfer", -3_00, LineState.CHARGED, 82_00, 5_00),
        ("Withdrawal: hold released", 20_00, LineState.RELEASED, 85_00, 5_00),
        ("Withdrawal: paid out", -10_00, LineState.PAID, 65_00, 25_00),
        ("Withdrawal", -5_00, LineState.HELD, 65_00, 35_00),
        ("Withdrawal", -20_00, LineState.RELEASED, 70_00, 30_00),
        ("Withdrawal", -10_00, LineState.PAID, 90_00, 10_00),
        ("Deposit", 100_00, LineState.PAID, 100_00, 0),
    ]
    assert [line.step for line in lines] == [
        LineStep.CHARGE, LineStep.HOLD, LineStep.POSTED, LineStep.RELEASE, LineStep.CHARGE,
        LineStep.HOLD, LineStep.HOLD, LineStep.HOLD, LineStep.POSTED]
    assert wallet_summary(alice.id) == WalletSummary(78_00, 5_00, 83_00)
    by_id = {line.transfer_id: line for line in lines}
    assert by_id[charge.id].partly_charged and by_id[charge.id].reserved_minor == 6_00
    assert by_id[charge.id].released_minor == 2_00
    assert not by_id[partial.id].partly_charged and by_id[partial.id].reserved_minor == 6_00
    assert by_id[partial.id].settled_at is not None
    assert by_id[fee.id].memo == "Contact: gig 7"
    assert by_id[fee.id].cause_page is None and by_id[fee.id].cause_text == "Sample #7"
    assert by_id[open_.hold_transfer_id].settled_at is None
    assert by_id[deposit.transfer_id].cause_page == ("wallet.deposit", {"deposit_id": deposit.id})
    assert by_id[paid.hold_transfer_id].cause_page == (
        "wallet.withdrawal", {"withdrawal_id": paid.id})
    assert by_id[paid.hold_transfer_id].cause_text == f"Withdrawal #{paid.id}"


def _balances_from_scratch(account_id: int) -> dict[int, tuple[int, int]]:
    """(available, held) after each of the account's transfers, recomputed from all the
    transfer rows up to it as the ledger check counts them (posted and post-of-pending
    rows are posted; a reservation is pending until a row resolving it)."""
    rows = sorted(db.session.scalars(select(Transfer).where(or_(
        Transfer.debit_account_id == account_id, Transfer.credit_account_id == account_id))),
        key=lambda t: (t.created_at, t.id))
    after = {}
    for n, last in enumerate(rows):
        upto = rows[:n + 1]
        resolved = {t.pending_id for t in upto if t.pending_id is not None}
        posted = (TransferState.POSTED, TransferState.POST_PENDING)
        debits_posted = sum(t.amount_minor for t in upto
                            if t.debit_account_id == account_id and t.state in posted)
        credits_posted = sum(t.amount_minor for t in upto
                             if t.credit_account_id == account_id and t.state in posted)
        debits_pending = sum(t.amount_minor for t in upto if t.debit_account_id == account_id
                             and t.state == TransferState.PENDING and t.id not in resolved)
        after[last.id] = (credits_posted - debits_posted - debits_pending, debits_pending)
    return after


@pytest.mark.parametrize("page_size", [1, 2, 3, 4, 7, 50])
def test_every_lines_balances_are_a_recomputation_from_scratch_on_every_page(
        app, make_member, admin, fund, withdraw, monkeypatch, page_size):
    alice, bob = make_member("alice"), make_member("bob")
    fund(alice, 100_00)
    fund(bob, 10_00)
    paid = withdraw(alice, 10_00)
    rejected = withdraw(alice, 20_00)
    _fee(bob, 1_00)  # another wallet's money moves in between
    held = _fee(alice, 7_00, pending=True)
    fund(alice, 5_00)
    mark_withdrawal_paid(paid, actor=admin, reason="Paid", password=PASSWORD)
    partial = _fee(alice, 6_00, pending=True)
    whole = _fee(alice, 2_00, pending=True)
    _fee(alice, 3_00)
    reject_withdrawal(rejected, actor=admin, reason="No", password=PASSWORD)
    post_reservation(partial.id, amount=4_00, actor_id=None)
    void_reservation(held.id, actor_id=None)
    post_reservation(whole.id, actor_id=None)
    open_ = withdraw(alice, 9_00)
    _fee(alice, 1_50)
    db.session.commit()
    account_id = wallet_account(alice.id).id
    expected = _balances_from_scratch(account_id)

    monkeypatch.setitem(app.config, "PAGE_SIZE", page_size)
    seen, cursor = [], None
    while True:
        page = wallet_history_page(alice.id, cursor)
        seen += page.items
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert len(seen) == len(expected) == 15
    assert {(line.transfer_id, (line.available_after, line.held_after)) for line in seen} == (
        set(expected.items()))
    summary = wallet_summary(alice.id)
    assert (seen[0].available_after, seen[0].held_after) == (summary.available, summary.held)
    assert summary == WalletSummary(available=75_50, held=9_00, total=84_50)
    assert [line.step for line in seen].count(LineStep.RELEASE) == 2
    assert [line.step for line in seen].count(LineStep.CHARGE) == 3
    assert seen[-1].transfer_id == min(expected) and open_.hold_transfer_id == max(
        line.transfer_id for line in seen if line.step == LineStep.HOLD)


def test_history_pages_newest_first_without_gaps_or_repeats(app, make_member, fund,
                                                            monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 4)
    alice = make_member("alice")
    deposits = [fund(alice, (i + 1) * 100) for i in range(10)]
    seen, cursor, pages = [], None, 0
    while True:
        page = wallet_history_page(alice.id, cursor)
        seen += [line.amount_minor for line in page.items]
        pages += 1
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert pages == 3
    assert seen == [d.amount_minor for d in reversed(deposits)]


def test_history_pages_merge_money_in_and_money_out(app, make_member, fund, withdraw,
                                                   monkeypatch):
    # the page merges the account's newest debits and newest credits (two index walks)
    alice = make_member("alice")
    for i in range(6):
        fund(alice, 50_00 + i)
        withdraw(alice, 10_00 + i)
    whole = [line.transfer_id for line in wallet_history_page(alice.id, None).items]
    assert len(whole) == 12
    monkeypatch.setitem(app.config, "PAGE_SIZE", 5)
    seen, cursor = [], None
    while True:
        page = wallet_history_page(alice.id, cursor)
        seen += [line.transfer_id for line in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert seen == whole
    assert sorted(whole, reverse=True) == whole  # newest first, in and out interleaved


def test_another_members_transfers_are_not_in_my_history(make_member, fund):
    alice, bob = make_member("alice"), make_member("bob")
    fund(alice, 10_00)
    fund(bob, 20_00)
    assert [line.amount_minor for line in wallet_history_page(alice.id, None).items] == [10_00]


def _history_with(member, fund, withdraw, admin, lines: int) -> None:
    """``lines`` history lines for the member: a deposit, then withdrawals, of which the
    newest is paid and the one before it rejected (the rest stay held)."""
    fund(member, 1_000_00)
    made = [withdraw(member, 1_00 + i) for i in range(lines - 1)]
    mark_withdrawal_paid(made[-1], actor=admin, reason="Paid", password=PASSWORD)
    reject_withdrawal(made[-2], actor=admin, reason="No", password=PASSWORD)


@pytest.mark.parametrize("lines", [5, 50])
def test_a_history_page_costs_the_same_queries_whatever_its_rows(
        make_member, admin, fund, withdraw, count_queries, lines):
    alice = make_member("alice")
    _history_with(alice, fund, withdraw, admin, lines)
    alice_id = alice.id
    db.session.commit()
    with count_queries() as statements:
        page = wallet_history_page(alice_id, None)
        states = {line.state for line in page.items}
    assert len(page.items) == min(lines + 2, 20)  # (+ the paid one's post, the void)
    assert {LineState.HELD, LineState.PAID, LineState.RELEASED} <= states
    # the account, the page of transfers, the resolutions of its reservations
    assert len([s for s in statements if s.startswith("SELECT")]) == 3, statements


def test_platform_revenue_is_the_revenue_accounts_balance(make_member, fund):
    alice = make_member("alice")
    fund(alice, 10_00)
    _fee(alice, 2_50)
    _fee(alice, 1_00, pending=True)  # held, not yet revenue
    assert platform_revenue() == 2_50


def test_the_admin_queue_is_requested_withdrawals_oldest_first(
        app, make_member, admin, fund, withdraw, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    alice, bob = make_member("alice"), make_member("bob")
    fund(alice, 100_00)
    fund(bob, 100_00)
    a1, b1, a2, b2 = (withdraw(alice, 1_00), withdraw(bob, 2_00), withdraw(alice, 3_00),
                      withdraw(bob, 4_00))
    reject_withdrawal(b1, actor=admin, reason="No", password=PASSWORD)
    assert count_pending_withdrawals() == 3
    first = pending_withdrawals_page(None)
    assert [w.id for w in first.items] == [a1.id, a2.id] and first.next_cursor
    assert first.items[0].member.username == "alice"  # loaded with the page
    second = pending_withdrawals_page(first.next_cursor)
    assert [w.id for w in second.items] == [b2.id] and second.next_cursor is None
    assert not second.is_first


def test_recent_withdrawals_are_the_members_newest(make_member, fund, withdraw):
    alice, bob = make_member("alice"), make_member("bob")
    fund(alice, 100_00)
    fund(bob, 100_00)
    mine = [withdraw(alice, 1_00 + i) for i in range(3)]
    withdraw(bob, 1_00)
    assert [w.id for w in recent_withdrawals(alice.id, limit=2)] == [mine[2].id, mine[1].id]
