"""The wallet pages: forms, refusals shown next to fields, idempotent POSTs (the admin's
withdrawal queue is tested in tests/admin)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from offload.core.db import db
from offload.wallet.models import Deposit, Withdrawal
from offload.wallet.queries import wallet_summary
from offload.wallet.services import mark_withdrawal_paid, reject_withdrawal
from tests.support.factories import PASSWORD, count, transfer_count

IBAN = "IBAN DE89 3704 0044 0532 0130 00"


def key_in(html: str, form: str) -> str:
    match = re.search(rf'name="{form}-idempotency_key" type="hidden" value="([^"]+)"', html)
    assert match, f"no {form} key in the page"
    return match.group(1)


def summary(member):
    db.session.rollback()
    return wallet_summary(member.id)


def deposit_form(amount: str, key: str = "k-deposit") -> dict:
    return {"deposit-amount": amount, "deposit-idempotency_key": key}


def withdrawal_form(amount: str, key: str = "k-withdrawal", details: str = IBAN) -> dict:
    return {"withdrawal-amount": amount, "withdrawal-payout_details": details,
            "withdrawal-idempotency_key": key}


def logged_in(app, user):
    """A second browser: a new test client logged in as ``user``."""
    other = app.test_client()
    r = other.post("/login", data={"login": user.username, "password": PASSWORD})
    assert r.status_code == 302
    return other


@pytest.fixture
def alice(client, make_member, login):
    member = make_member("alice")
    login(member)
    return member


# --- the page ---------------------------------------------------------------------------

def test_the_wallet_needs_a_log_in(client):
    r = client.get("/wallet")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")


def test_the_wallet_page_shows_balances_the_sandbox_and_fresh_keys(client, alice):
    r = client.get("/wallet")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert "Sandbox:</strong> no real money moves; funds are credited at once." in html
    for label in ("Available", "Held", "Total"):
        assert f"<dt>{label}</dt>" in html
    assert html.count("$0.00") >= 3
    assert "Add funds" in html and "Request withdrawal" in html and "Where to send it" in html
    first = key_in(html, "deposit"), key_in(html, "withdrawal")
    again = client.get("/wallet").get_data(as_text=True)
    assert first[0] != first[1] and key_in(again, "deposit") not in first
    assert 'href="/wallet" aria-current="page"' in html  # the nav link


def test_no_sandbox_notice_with_another_provider(app, client, alice, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENT_PROVIDER", "acme")
    assert "Sandbox" not in client.get("/wallet").get_data(as_text=True)


# --- adding funds -------------------------------------------------------------------------

def test_adding_funds_credits_the_wallet(client, alice):
    r = client.post("/wallet/deposits", data=deposit_form("12.50"))
    assert r.status_code == 302 and r.headers["Location"] == "/wallet"
    page = client.get("/wallet").get_data(as_text=True)
    assert "$12.50 was added to your wallet." in page
    assert '<strong data-balance="available">$12.50</strong>' in page
    assert summary(alice).total == 12_50


def test_a_double_post_with_one_key_adds_once_and_redirects_alike(client, alice):
    first = client.post("/wallet/deposits", data=deposit_form("20", key="same"))
    second = client.post("/wallet/deposits", data=deposit_form("20", key="same"))
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert count(Deposit) == 1 and transfer_count() == 1 and summary(alice).total == 20_00


def test_the_same_key_with_another_amount_is_refused(client, alice):
    client.post("/wallet/deposits", data=deposit_form("20", key="same"))
    r = client.post("/wallet/deposits", data=deposit_form("30", key="same"))
    assert r.status_code == 422
    assert "already used for a different request" in r.get_data(as_text=True)
    assert count(Deposit) == 1 and summary(alice).total == 20_00


@pytest.mark.parametrize(("amount", "message"), [
    ("-5", "The amount must be positive."),
    ("0", "The amount must be more than zero."),
    ("0.00", "The amount must be more than zero."),
    ("1.234", "Use at most two decimals (for example 12.50)."),
    ("abc", "Enter the amount as a number (digits and a point), for example 12.50 or $12.50."),
    ("€5", "Amounts here are in USD: enter digits only, for example 12.50 or $12.50."),
    ("£5", "Amounts here are in USD: enter digits only, for example 12.50 or $12.50."),
    ("٥", "Use the digits 0–9, for example 12.50 or $12.50."),
    ("５", "Use the digits 0–9, for example 12.50 or $12.50."),
    ("1000000.01", "The most you can enter is 1,000,000.00."),
    ("99999999999999999999", "The most you can enter is 1,000,000.00."),
    ("", "Enter an amount."),
    ("   ", "Enter an amount."),
])
def test_bad_amounts_are_explained_next_to_the_field_and_move_nothing(client, alice, amount,
                                                                      message):
    for url, data in (("/wallet/deposits", deposit_form(amount, key="kept-key")),
                      ("/wallet/withdrawals", withdrawal_form(amount, key="kept-key"))):
        r = client.post(url, data=data)
        html = r.get_data(as_text=True)
        assert r.status_code == 422, url
        prefix = url.rsplit("/", 1)[1][:-1]
        errors = re.search(rf'<ul class="errors" id="{prefix}-amount-error">(.*?)</ul>', html,
                           re.S)
        assert errors and message in errors.group(1), (url, html[:3000])
        assert key_in(html, prefix) == "kept-key"  # a retry of this form keeps its key
        assert f'value="{amount}"' in html or not amount
    assert transfer_count() == 0 and count(Deposit) == count(Withdrawal) == 0


def test_a_deposit_without_its_key_is_refused(client, alice):
    r = client.post("/wallet/deposits", data={"deposit-amount": "5"})
    assert r.status_code == 422 and "missing its one-time key" in r.get_data(as_text=True)
    assert count(Deposit) == 0


def test_unconfirmed_members_are_sent_to_confirm_first(client, make_member, login):
    login(make_member("newbie", confirmed=False))
    assert "Confirm your e-mail address to add funds." in client.get("/wallet").get_data(
        as_text=True)
    for url, data in (("/wallet/deposits", deposit_form("5")),
                      ("/wallet/withdrawals", withdrawal_form("5"))):
        r = client.post(url, data=data)
        assert r.status_code == 302 and r.headers["Location"].startswith("/settings")
    assert count(Deposit) == count(Withdrawal) == 0


# --- withdrawals ----------------------------------------------------------------------------

def test_a_withdrawal_is_held_and_listed(client, alice, fund):
    fund(alice, 50_00)
    r = client.post("/wallet/withdrawals", data=withdrawal_form("20.00"))
    assert r.status_code == 302
    s = summary(alice)
    assert (s.available, s.held, s.total) == (30_00, 20_00, 50_00)
    w = db.session.scalar(select(Withdrawal))
    html = client.get("/wallet").get_data(as_text=True)
    assert "is requested and the amount is held" in html
    assert f'id="withdrawal-{w.id}"' in html and ">requested</span>" in html
    assert ">held</span>" in html


def test_a_double_withdrawal_post_holds_once(client, alice, fund):
    fund(alice, 50_00)
    first = client.post("/wallet/withdrawals", data=withdrawal_form("20", key="w-same"))
    second = client.post("/wallet/withdrawals", data=withdrawal_form("20", key="w-same"))
    assert first.headers["Location"] == second.headers["Location"] == "/wallet"
    assert count(Withdrawal) == 1 and summary(alice).held == 20_00


def test_a_withdrawal_over_the_available_balance_is_explained_and_holds_nothing(
        client, alice, fund):
    fund(alice, 10_00)
    before = transfer_count()
    r = client.post("/wallet/withdrawals", data=withdrawal_form("10.01", key="k-over"))
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    errors = re.search(r'id="withdrawal-amount-error">(.*?)</ul>', html, re.S).group(1)
    assert "You can&#39;t withdraw $10.01: your available balance is $10.00." in errors
    assert 'value="10.01"' in html and f'value="{IBAN}"' in html
    assert transfer_count() == before and count(Withdrawal) == 0
    assert summary(alice).held == 0


def test_a_refused_withdrawal_shows_what_was_typed_and_the_next_page_a_blank_form(
        client, alice, fund):
    fund(alice, 10_00)
    blank = client.get("/wallet").get_data(as_text=True)  # its fields, now kept as markup
    r = client.post("/wallet/withdrawals", data=withdrawal_form("10.01", key="k-over"))
    assert r.status_code == 422
    assert 'value="10.01"' in r.get_data(as_text=True)
    again = client.get("/wallet").get_data(as_text=True)
    assert 'value="10.01"' not in again and IBAN not in again
    assert 'aria-invalid="true"' not in again
    assert re.sub(r'value="[^"]{20,}"', "", again) == re.sub(r'value="[^"]{20,}"', "", blank)


def test_a_withdrawal_under_the_minimum_or_without_details_is_refused(client, alice, fund):
    fund(alice, 10_00)
    r = client.post("/wallet/withdrawals", data=withdrawal_form("0.50"))
    assert r.status_code == 422
    assert "The smallest amount you can withdraw is $1.00." in r.get_data(as_text=True)
    r = client.post("/wallet/withdrawals", data=withdrawal_form("5", details=""))
    assert r.status_code == 422
    assert "Say where we should send the money." in r.get_data(as_text=True)
    assert count(Withdrawal) == 0


def test_a_withdrawal_page_is_for_its_member_and_admins(app, make_member, fund, withdraw,
                                                        admin):
    alice = make_member("alice")
    fund(alice, 50_00)
    w = withdraw(alice, 10_00)
    deposit_id = db.session.scalar(select(Deposit.id))
    for user, status in ((alice, 200), (make_member("bob"), 404), (admin, 200)):
        browser = logged_in(app, user)
        assert browser.get(f"/wallet/withdrawals/{w.id}").status_code == status
        assert browser.get(f"/wallet/deposits/{deposit_id}").status_code == status
    html = browser.get(f"/wallet/withdrawals/{w.id}").get_data(as_text=True)
    assert IBAN in html and "$10.00" in html and "Back to the withdrawal queue" in html
    assert browser.get("/wallet/withdrawals/9999").status_code == 404


# --- history ------------------------------------------------------------------------------------

def test_history_shows_held_paid_and_released_with_links(client, alice, fund, withdraw, admin):
    deposit = fund(alice, 100_00)
    paid, rejected, held = withdraw(alice, 10_00), withdraw(alice, 20_00), withdraw(alice, 5_00)
    mark_withdrawal_paid(paid, actor=admin, reason="Paid", password=PASSWORD)
    reject_withdrawal(rejected, actor=admin, reason="The IBAN is not valid", password=PASSWORD)
    html = client.get("/wallet").get_data(as_text=True)
    rows = re.findall(r'<tr id="transfer-\d+">(.*?)</tr>', html, re.S)
    assert len(rows) == 6  # the payout and the release are lines of their own
    texts = [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]
    # each line ends with the available and held balances after it
    assert "Withdrawal: hold released" in texts[0] and "+$20.00" in texts[0]
    assert texts[0].endswith("$85.00 $5.00")
    assert "Withdrawal: paid out" in texts[1] and "-$10.00 from held" in texts[1]
    assert texts[1].endswith("$65.00 $25.00")
    assert "Withdrawal" in texts[2] and "-$5.00" in texts[2] and "held" in texts[2]
    assert texts[2].endswith("$65.00 $35.00")
    assert "-$20.00" in texts[3] and "released" in texts[3] and texts[3].endswith(
        "$70.00 $30.00")
    assert "-$10.00" in texts[4] and "paid" in texts[4] and texts[4].endswith("$90.00 $10.00")
    assert "Deposit" in texts[5] and "+$100.00" in texts[5] and "paid" in texts[5]
    assert texts[5].endswith("$100.00 $0.00")
    assert f'href="/wallet/deposits/{deposit.id}"' in html
    assert f'href="/wallet/withdrawals/{held.id}"' in html
    assert "Reason: The IBAN is not valid" in html


def test_history_paginates_with_the_older_link(client, alice, fund, app):
    page_size = app.config["PAGE_SIZE"]
    for i in range(page_size + 3):
        fund(alice, 1_00 + i)
    first = client.get("/wallet").get_data(as_text=True)
    assert len(re.findall(r'<tr id="transfer-', first)) == page_size
    older = re.search(r'<a href="(/wallet\?before=[^"]+)">Older', first)
    assert older, "no Older link"
    second = client.get(older.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert len(re.findall(r'<tr id="transfer-', second)) == 3
    assert "+$1.00" in second and "Newest" in second and "Older" not in second


@pytest.mark.parametrize("lines", [5, 50])
def test_the_wallet_page_costs_the_same_queries_whatever_its_history(
        client, alice, fund, withdraw, admin, count_queries, lines):
    fund(alice, 1_000_00)
    made = [withdraw(alice, 1_00 + i) for i in range(lines - 1)]
    reject_withdrawal(made[-1], actor=admin, reason="No", password=PASSWORD)
    with count_queries() as statements:
        r = client.get("/wallet")
    assert r.status_code == 200
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    # the member with both unread badges, balances, the history (account, page,
    # resolutions), recent withdrawals, recent deposits
    assert len(selects) == 7, "\n".join(selects)


# --- admin ------------------------------------------------------------------------------------
