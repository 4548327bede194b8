"""The wallet history as a CSV download: the member's own, streamed a keyset page at a
time, amounts as decimal strings, ISO times in the member's zone."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest

import offload.wallet.views as wallet_views
from offload.core.db import db
from offload.ledger.models import Transfer
from offload.wallet.queries import wallet_history_page
from offload.wallet.services import mark_withdrawal_paid
from tests.support.factories import PASSWORD

HEADER = ["date", "what", "for", "memo", "amount", "currency", "state", "available after",
          "held after", "transfer id"]


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def ada(make_member, login):
    member = make_member("ada")
    login(member)
    return member


def test_the_history_downloads_as_csv(client, ada, admin, fund, withdraw):
    fund(ada, 50_00)
    withdrawal = withdraw(ada, 12_50)
    mark_withdrawal_paid(withdrawal, actor=admin, reason="Sent", password=PASSWORD)
    r = client.get("/wallet/history.csv")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="offload-wallet-')
    assert disposition.endswith('.csv"')
    header, *rows = rows_of(r)
    assert header == HEADER
    assert [(row[1], row[4], row[6], row[7], row[8]) for row in rows] == [
        ("Withdrawal: paid out", "-12.50", "paid", "37.50", "0.00"),
        ("Withdrawal", "-12.50", "paid", "37.50", "12.50"),
        ("Deposit", "50.00", "paid", "50.00", "0.00")]
    assert rows[2][2] == "Deposit #1" or rows[2][2].startswith("Deposit #")
    assert {row[5] for row in rows} == {"USD"}
    newest = db.session.get(Transfer, int(rows[0][9]))
    assert rows[0][0] == newest.created_at.isoformat(timespec="seconds")
    assert datetime.fromisoformat(rows[0][0]).utcoffset().total_seconds() == 0


def test_the_csv_is_the_members_own(client, ada, make_member, login, fund):
    fund(ada, 10_00)
    eve = make_member("eve")
    login(eve)
    assert rows_of(client.get("/wallet/history.csv")) == [HEADER]


def test_the_csv_needs_a_log_in(client):
    r = client.get("/wallet/history.csv")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


def test_the_csv_streams_every_page_of_the_keyset(client, app, ada, fund, monkeypatch):
    for amount in (1_00, 2_00, 3_00, 4_00, 5_00):
        fund(ada, amount)
    monkeypatch.setitem(app.config, "CSV_PAGE_SIZE", 2)
    cursors = []

    def spy(member_id, cursor, size=None):
        cursors.append(cursor)
        assert size == 2
        return wallet_history_page(member_id, cursor, size)

    monkeypatch.setattr(wallet_views, "wallet_history_page", spy)
    r = client.get("/wallet/history.csv", buffered=False)
    assert r.is_streamed and cursors == []  # nothing read until the body is sent
    header, *rows = rows_of(r)
    assert [row[4] for row in rows] == ["5.00", "4.00", "3.00", "2.00", "1.00"]
    assert [row[7] for row in rows] == ["15.00", "10.00", "6.00", "3.00", "1.00"]
    assert len(cursors) == 3 and cursors[0] is None and None not in cursors[1:]


def test_the_wallet_page_links_to_the_csv(client, ada):
    assert 'href="/wallet/history.csv"' in client.get("/wallet").get_data(as_text=True)


def test_the_csv_times_are_in_the_members_zone_with_the_offset(client, make_member, login,
                                                               fund):
    kate = make_member("kate", time_zone="Asia/Kolkata")
    fund(kate, 10_00)
    login(kate)
    _, row = rows_of(client.get("/wallet/history.csv"))
    at = datetime.fromisoformat(row[0])
    assert row[0].endswith("+05:30") and at.utcoffset().total_seconds() == 5.5 * 3600
    stored = db.session.get(Transfer, int(row[9])).created_at
    assert at == stored.replace(microsecond=0)  # the same instant
