"""The withdrawal queue: paying out and rejecting with a reason and the password, refusals
shown next to the field, a second decision told it is too late, 404 to members."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from offload.core.db import db
from offload.moderation.models import ModerationEntry
from offload.notifications.models import Notification
from offload.wallet.models import Withdrawal, WithdrawalState
from offload.wallet.queries import wallet_summary
from tests.support.factories import PASSWORD

IBAN = "IBAN DE89 3704 0044 0532 0130 00"


def count(model) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model))


def summary(member):
    db.session.rollback()
    return wallet_summary(member.id)


def logged_in(app, user):
    """A second browser: a new test client logged in as ``user``."""
    other = app.test_client()
    r = other.post("/login", data={"login": user.username, "password": PASSWORD})
    assert r.status_code == 302
    return other


def decision(w, action: str, reason: str = "Sent by SEPA", password: str = PASSWORD) -> dict:
    return {f"{action}-{w.id}-reason": reason, f"{action}-{w.id}-password": password}


def test_the_admin_area_is_404_for_members(client, make_member, login, fund, withdraw):
    alice = make_member("alice")
    fund(alice, 50_00)
    w = withdraw(alice, 20_00)
    login(make_member("bob"))
    for url in ("/admin", "/admin/withdrawals"):
        assert client.get(url).status_code == 404
    for action in ("paid", "reject"):
        r = client.post(f"/admin/withdrawals/{w.id}/{action}", data=decision(w, action))
        assert r.status_code == 404
    assert db.session.get(Withdrawal, w.id).state == WithdrawalState.REQUESTED
    assert "/admin" not in client.get("/wallet").get_data(as_text=True)


def test_an_admin_marks_a_withdrawal_paid(client, queue, admin):
    alice, w = queue
    html = client.get("/admin/withdrawals").get_data(as_text=True)
    assert f"Withdrawal #{w.id}</a>: $20.00" in html and IBAN in html
    assert f'id="paid-{w.id}-password"' in html and f'id="reject-{w.id}-reason"' in html
    r = client.post(f"/admin/withdrawals/{w.id}/paid", data=decision(w, "paid"))
    assert r.status_code == 302 and r.headers["Location"] == "/admin/withdrawals"
    after = client.get("/admin/withdrawals").get_data(as_text=True)
    assert f"Withdrawal #{w.id} is marked paid; the member is notified." in after
    assert "No withdrawals are waiting." in after
    assert db.session.get(Withdrawal, w.id).state == WithdrawalState.PAID
    s = summary(alice)
    assert (s.available, s.held, s.total) == (30_00, 0, 30_00)
    entry = db.session.scalar(select(ModerationEntry))
    assert (entry.actor_id, entry.reason) == (admin.id, "Sent by SEPA")
    assert db.session.scalar(select(Notification.kind).where(
        Notification.user_id == alice.id)) == "withdrawal_paid"


def test_paying_twice_says_so_and_pays_once(client, queue):
    alice, w = queue
    client.post(f"/admin/withdrawals/{w.id}/paid", data=decision(w, "paid"))
    r = client.post(f"/admin/withdrawals/{w.id}/paid", data=decision(w, "paid"))
    assert r.status_code == 302
    html = client.get("/admin/withdrawals").get_data(as_text=True)
    assert "This withdrawal is already paid." in html
    assert count(ModerationEntry) == 1 and summary(alice).total == 30_00


def test_a_wrong_password_is_refused_next_to_the_field(client, queue):
    alice, w = queue
    r = client.post(f"/admin/withdrawals/{w.id}/paid",
                    data=decision(w, "paid", password="not the password"))
    html = r.get_data(as_text=True)
    assert r.status_code == 422
    errors = re.search(rf'id="paid-{w.id}-password-error">(.*?)</ul>', html, re.S).group(1)
    assert "Your password is not correct." in errors
    assert "Sent by SEPA</textarea>" in html  # the reason is kept
    assert "<details open>" in html
    assert db.session.get(Withdrawal, w.id).state == WithdrawalState.REQUESTED
    assert count(ModerationEntry) == 0 and summary(alice).held == 20_00


def test_a_blank_reason_is_refused(client, queue):
    _alice, w = queue
    r = client.post(f"/admin/withdrawals/{w.id}/reject", data=decision(w, "reject", reason=" "))
    assert r.status_code == 422 and "Write the reason." in r.get_data(as_text=True)
    assert db.session.get(Withdrawal, w.id).state == WithdrawalState.REQUESTED


def test_a_rejection_releases_the_hold_and_the_member_sees_why(app, client, queue):
    alice, w = queue
    r = client.post(f"/admin/withdrawals/{w.id}/reject",
                    data=decision(w, "reject", reason="The IBAN has a typo"))
    assert r.status_code == 302
    assert summary(alice).available == 50_00
    member = logged_in(app, alice)
    html = member.get(f"/wallet/withdrawals/{w.id}").get_data(as_text=True)
    assert "The IBAN has a typo" in html and ">rejected</span>" in html
    assert "The IBAN has a typo" in member.get("/notifications").get_data(as_text=True)


def test_an_admins_own_withdrawal_has_no_decision_forms(client, make_member, login, admin,
                                                        fund, withdraw):
    fund(admin, 10_00)
    w = withdraw(admin, 5_00)
    login(admin)
    html = client.get("/admin/withdrawals").get_data(as_text=True)
    assert "another admin must decide it" in html and f'id="paid-{w.id}-reason"' not in html
    r = client.post(f"/admin/withdrawals/{w.id}/paid", data=decision(w, "paid"))
    assert r.status_code == 302
    assert "You can&#39;t decide your own withdrawal; another admin must." in client.get(
        "/admin/withdrawals").get_data(as_text=True)
    assert db.session.get(Withdrawal, w.id).state == WithdrawalState.REQUESTED


def test_the_queue_paginates(app, client, queue, make_member, fund, withdraw, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    bob = make_member("bob")
    fund(bob, 50_00)
    for amount in (1_00, 2_00):
        withdraw(bob, amount)
    html = client.get("/admin/withdrawals").get_data(as_text=True)
    later = re.search(r'<a href="(/admin/withdrawals\?before=[^"]+)">Later requests', html)
    assert later
    assert "$2.00" in client.get(later.group(1)).get_data(as_text=True)
