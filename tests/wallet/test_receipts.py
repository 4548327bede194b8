"""Receipts: one per deposit, withdrawal, offer fee and commission that moved money, seen
by the member it concerns and by admins; anyone else gets a 404."""

from __future__ import annotations

import pytest
from flask import url_for
from werkzeug.exceptions import NotFound

from offload.commissions.services import complete_referral
from offload.core.db import db
from offload.ledger.models import Transfer
from offload.offers.services import accept_award, award_offer
from offload.wallet.queries import RECEIPT_CAUSES, receipt_for
from offload.wallet.services import mark_withdrawal_paid
from tests.support.factories import PASSWORD, new_key

IBAN = "IBAN DE89 3704 0044 0532 0130 00"


@pytest.fixture
def ada(make_member):
    return make_member("ada", display_name="Ada Lovelace")


def _receipt_page(client, login, viewer, cause, cause_id):
    login(viewer)
    return client.get(f"/wallet/receipts/{cause}/{cause_id}")


def test_a_deposit_has_a_receipt_with_its_references(client, login, ada, fund):
    deposit = fund(ada, 50_00)
    transfer = db.session.get(Transfer, deposit.transfer_id)
    receipt = receipt_for(ada, "deposit", deposit.id)
    assert (receipt.member_id, receipt.member_name, receipt.total_minor) == (
        ada.id, "Ada Lovelace", 50_00)
    (line,) = receipt.lines
    assert (line.transfer_id, line.batch_id, line.what) == (
        transfer.id, transfer.batch_id, "Deposit")
    assert line.counterparty == "Outside the site (the payment provider)"
    assert dict(receipt.details) == {"Paid through": "the sandbox (no real money)",
                                     "Provider's reference": deposit.provider_reference}

    r = _receipt_page(client, login, ada, "deposit", deposit.id)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    for text in ("Receipt: Deposit #", "Offload", "Ada Lovelace (@ada)", "Received",
                 "+$50.00", f"transfer {transfer.id}", f"batch {transfer.batch_id}",
                 deposit.provider_reference):
        assert text in html, text
    # linked from the deposit's page and from the wallet's history
    path = f"/wallet/receipts/deposit/{deposit.id}"
    assert path in client.get(f"/wallet/deposits/{deposit.id}").get_data(as_text=True)
    assert path in client.get("/wallet").get_data(as_text=True)


def test_a_withdrawal_has_a_receipt_once_paid_out(client, login, ada, admin, fund, withdraw):
    fund(ada, 50_00)
    withdrawal = withdraw(ada, 20_00, payout_details=IBAN)
    with pytest.raises(NotFound):  # only held: no money has moved yet
        receipt_for(ada, "withdrawal", withdrawal.id)
    login(ada)
    assert "/wallet/receipts/withdrawal/" not in client.get(
        f"/wallet/withdrawals/{withdrawal.id}").get_data(as_text=True)

    mark_withdrawal_paid(withdrawal, actor=admin, reason="Sent by bank transfer",
                         password=PASSWORD)
    receipt = receipt_for(ada, "withdrawal", withdrawal.id)
    assert receipt.total_minor == -20_00 and dict(receipt.details) == {"Paid to": IBAN}
    assert receipt.lines[0].what == "Withdrawal"
    html = _receipt_page(client, login, ada, "withdrawal", withdrawal.id).get_data(as_text=True)
    assert "Paid</dt>" in html and "-$20.00" in html and IBAN in html
    assert f"/wallet/receipts/withdrawal/{withdrawal.id}" in client.get(
        f"/wallet/withdrawals/{withdrawal.id}").get_data(as_text=True)


def test_a_prepaid_click_fee_has_a_receipt(make_gig, make_offer, make_member, fund, app):
    performer = make_member("perf")
    fund(performer, 10_00)
    offer = make_offer(make_gig(kind="task"), performer, fee_kind="prepaid")
    receipt = receipt_for(performer, "offer", offer.id)
    (line,) = receipt.lines
    assert receipt.title == f"Offer fee #{offer.id}"
    assert line.what == "Offer fee (prepaid click)"
    assert line.amount_minor == -app.config["PREPAID_CLICK_FEE_MINOR"]
    assert line.counterparty == "Offload (platform revenue)"


def test_a_postpaid_click_fee_has_a_receipt_once_charged(make_gig, make_offer, make_member,
                                                         fund, app):
    poster, performer = make_member("poster"), make_member("perf")
    fund(performer, 10_00)
    offer = make_offer(make_gig(poster=poster, kind="task"), performer, fee_kind="postpaid")
    with pytest.raises(NotFound):  # a hold is not a payment
        receipt_for(performer, "offer", offer.id)
    award_offer(offer, actor=poster)
    accept_award(offer, actor=performer)
    (line,) = receipt_for(performer, "offer", offer.id).lines
    assert line.what == "Offer fee (postpaid click)"
    assert line.amount_minor == -app.config["POSTPAID_CLICK_FEE_MINOR"]
    with pytest.raises(NotFound):  # the poster paid nothing by it
        receipt_for(poster, "offer", offer.id)


def test_a_commission_has_a_receipt_for_the_performer_and_for_the_referrer(
        client, login, start_project, performer, referrer, fund):
    fund(performer, 100_00)
    project = start_project()  # at the agreed price of $400: 10% commission, 3% platform
    commission = complete_referral(project, actor=performer, invoiced_minor=400_00,
                                   idempotency_key=new_key())
    paid = receipt_for(performer, "commission", commission.id)
    assert [(line.what, line.amount_minor) for line in paid.lines] == [
        ("Commission (platform share)", -12_00), ("Commission (referrer share)", -28_00)]
    assert paid.total_minor == -40_00
    assert paid.lines[1].counterparty == "Rita Referrer (@referrer)"
    received = receipt_for(referrer, "commission", commission.id)
    assert [(line.amount_minor, line.counterparty) for line in received.lines] == [
        (28_00, "Pete Performer (@performer)")]
    # linked from the commission on the project's page
    login(referrer)
    assert f"/wallet/receipts/commission/{commission.id}" in client.get(
        f"/projects/{project.id}").get_data(as_text=True)


def test_another_members_receipt_is_a_404_and_an_admin_sees_any(client, login, ada, admin,
                                                               make_member, fund):
    deposit = fund(ada, 30_00)
    outsider = make_member("eve")
    assert _receipt_page(client, login, outsider, "deposit", deposit.id).status_code == 404
    assert _receipt_page(client, login, ada, "deposit", deposit.id + 1000).status_code == 404
    assert _receipt_page(client, login, ada, "milestone", deposit.id).status_code == 404
    r = _receipt_page(client, login, admin, "deposit", deposit.id)
    assert r.status_code == 200 and "Ada Lovelace (@ada)" in r.get_data(as_text=True)
    assert receipt_for(admin, "deposit", deposit.id).member_id == ada.id


def test_the_receipt_prints_without_the_navigation(client, login, ada, fund):
    deposit = fund(ada, 5_00)
    html = _receipt_page(client, login, ada, "deposit", deposit.id).get_data(as_text=True)
    assert 'class="button button-secondary no-print"' in html
    css = client.get("/static/site.css").get_data(as_text=True)
    print_rules = css[css.index("@media print"):]
    assert ".topbar" in print_rules and ".no-print" in print_rules
    assert "color: #000" in print_rules and "background: #fff" in print_rules


def test_the_route_takes_every_cause_that_has_receipts(app):
    with app.test_request_context():
        assert [url_for("wallet.receipt", cause=cause, cause_id=7) for cause in RECEIPT_CAUSES] \
            == [f"/wallet/receipts/{cause}/7" for cause in RECEIPT_CAUSES]
