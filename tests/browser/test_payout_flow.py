"""With Stripe (the loopback stand-in): a member connects a payout account and asks for a
withdrawal; an admin approves it, Stripe fails once, the retry pays it by a Transfer."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from offload.core.db import db
from offload.wallet.models import PayoutAccount, Withdrawal
from tests.support.browser import log_in
from tests.support.factories import PASSWORD, fund
from tests.support.stripe_standin import configured_standin

pytestmark = pytest.mark.browser


def test_connect_a_payout_account_and_an_admin_pays_the_withdrawal_through_stripe(
        app, browser, live_server, make_member, monkeypatch, shot):
    fund(make_member("erin", display_name="Erin Ward"), 60_00)  # the sandbox, before Stripe
    make_member("root", admin=True)
    db.session.commit()
    with configured_standin(app, monkeypatch, "whsec_browser") as standin:
        member = browser.new_context().new_page()
        log_in(member, live_server, "erin")
        member.goto(f"{live_server}/wallet")
        expect(member.locator("[data-payout-status]")).to_contain_text("Not connected")
        expect(member.get_by_label("Where to send it")).to_have_count(0)
        member.get_by_role("button", name="Connect a payout account").click()
        member.wait_for_url(f"{standin.url}/onboard/*")  # Stripe's page
        db.session.rollback()
        reference = db.session.scalar(select(PayoutAccount.account_reference))
        assert member.url == f"{standin.url}/onboard/{reference}"

        # back from Stripe's page, the state is Stripe's, not the link's query string
        member.goto(f"{live_server}/wallet/payout-account?payouts_enabled=true")
        expect(member.locator("[data-payout-status]")).to_contain_text(
            "More information needed")
        expect(member.get_by_role("link", name="Continue on Stripe")).to_be_visible()
        standin.objects[reference].update(details_submitted=True, payouts_enabled=True)
        member.reload()
        expect(member.locator("[data-payout-status]")).to_contain_text("Ready")
        shot(member, "payout-01-ready")

        member.goto(f"{live_server}/wallet")
        member.get_by_label("Amount to withdraw").fill("25")
        member.get_by_role("button", name="Request withdrawal").click()
        expect(member.get_by_text("Your withdrawal of $25.00 is requested")).to_be_visible()
        db.session.rollback()
        withdrawal_id = db.session.scalar(select(Withdrawal.id))

        admin = browser.new_context().new_page()
        log_in(admin, live_server, "root")
        admin.goto(f"{live_server}/admin/withdrawals")
        item = admin.locator(f"#withdrawal-{withdrawal_id}")
        expect(item).to_contain_text(f"Stripe payout account {reference}")
        standin.fail_next("/v1/transfers", 500)
        item.get_by_text("Approve and pay through Stripe…").click()
        approve = item.locator("details").filter(has_text="Approve and pay")
        approve.get_by_label("Reason").fill("Checked the account")
        approve.get_by_label("Your password").fill(PASSWORD)
        approve.get_by_role("button", name="Approve and pay").click()
        item = admin.locator(f"#withdrawal-{withdrawal_id}")
        retry = item.locator("details").filter(has_text="Retry the Stripe transfer")
        expect(item.get_by_role("alert")).to_contain_text("can't tell yet whether it was made")
        expect(retry.get_by_label("Reason")).to_have_value("Checked the account")
        expect(item.get_by_role("button", name="Reject withdrawal")).to_have_count(0)
        shot(admin, "payout-02-stripe-failed")

        retry.get_by_label("Your password").fill(PASSWORD)
        retry.get_by_role("button", name="Retry transfer").click()
        expect(admin.get_by_text(f"Withdrawal #{withdrawal_id} is paid through Stripe")
               ).to_be_visible()
        keys = {r.idempotency_key for r in standin.requests if r.path == "/v1/transfers"}
        assert len(keys) == 1

        member.goto(f"{live_server}/wallet/withdrawals/{withdrawal_id}")
        expect(member.get_by_text("paid", exact=True)).to_be_visible()
        expect(member.get_by_text("tr_")).to_be_visible()
        shot(member, "payout-03-paid")
