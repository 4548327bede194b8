"""Wallet reads: balances, the history and its states, pages, revenue, the admin queue."""

from __future__ import annotations

import pytest

from offload.core.db import db
from offload.ledger.models import AccountKind, TransferKind
from offload.ledger.services import (
    Cause,
    Leg,
    post_reservation,
    post_transfer,
    reserve,
    system_account,
    wallet_account,
)
from offload.wallet.queries import (
    LineState,
    WalletSummary,
    count_pending_withdrawals,
    pending_withdrawals_page,
    platform_revenue,
    recent_withdrawals,
    wallet_history_page,
    wallet_summary,
)
from offload.wallet.services import mark_withdrawal_paid, reject_withdrawal
from tests.conftest import PASSWORD


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
    post_reservation(partial.id, amount=4_00, actor_id=None)
    db.session.commit()

    lines = wallet_history_page(alice.id, None).items
    assert [(line.label, line.amount_minor, line.state) for line in lines] == [
        ("Transfer", -4_00, LineState.CHARGED),
        ("Transfer", -3_00, LineState.CHARGED),
        ("Withdrawal", -5_00, LineState.HELD),
        ("Withdrawal", -20_00, LineState.RELEASED),
        ("Withdrawal", -10_00, LineState.PAID),
        ("Deposit", 100_00, LineState.PAID),
    ]
    by_id = {line.transfer_id: line for line in lines}
    assert by_id[partial.id].partly_charged and by_id[partial.id].reserved_minor == 6_00
    assert by_id[partial.id].settled_at is not None
    assert by_id[fee.id].memo == "Contact: gig 7"
    assert by_id[fee.id].cause_page is None and by_id[fee.id].cause_text == "Sample #7"
    assert by_id[open_.hold_transfer_id].settled_at is None
    assert by_id[deposit.transfer_id].cause_page == ("wallet.deposit", {"deposit_id": deposit.id})
    assert by_id[paid.hold_transfer_id].cause_page == (
        "wallet.withdrawal", {"withdrawal_id": paid.id})
    assert by_id[paid.hold_transfer_id].cause_text == f"Withdrawal #{paid.id}"


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
    assert len(page.items) == min(lines, 20)
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
