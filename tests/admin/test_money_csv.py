"""The platform's revenue and the commissions as CSV downloads, for admins: streamed a
keyset page at a time, member-written cells guarded against formula injection."""

from __future__ import annotations

import csv
import io

import pytest

from offload.commissions.services import complete_referral
from offload.core.db import db
from offload.ledger.models import Transfer
from tests.support.factories import new_key


def rows_of(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


@pytest.fixture
def commission(start_project, performer, fund):
    """A referral at $400 completed and paid: $12 to the platform, $28 to the referrer."""
    fund(performer, 100_00)
    project = start_project(title="=HYPERLINK(\"http://evil.example\",\"x\")")
    return complete_referral(project, actor=performer, invoiced_minor=400_00,
                             idempotency_key=new_key())


def test_the_revenue_csv_lists_the_platforms_movements(client, login, admin, commission,
                                                        make_gig, make_offer, make_member,
                                                        fund):
    clicker = make_member("clicker", display_name="@SUM(1+1)")
    fund(clicker, 5_00)
    offer = make_offer(make_gig(kind="task"), clicker, fee_kind="prepaid")
    login(admin)
    r = client.get("/admin/revenue.csv")
    assert r.headers["Content-Disposition"].startswith('attachment; filename="offload-revenue-')
    header, *rows = rows_of(r)
    assert header == ["date", "what", "amount", "currency", "member", "member name", "for",
                      "memo", "transfer id", "batch id"]
    assert [row[1:8] for row in rows] == [
        ["Offer fee (prepaid click)", "1.00", "USD", "clicker", "'@SUM(1+1)",
         f"offer #{offer.id}", ""],
        ["Commission", "12.00", "USD", "performer", "Pete Performer",
         f"commission #{commission.id}", "platform share"]]
    fee = db.session.get(Transfer, int(rows[0][8]))
    assert (fee.batch_id, rows[0][0]) == (rows[0][9], fee.created_at.isoformat(
        timespec="seconds"))


def test_the_commissions_csv_guards_member_written_titles(client, login, admin, commission):
    login(admin)
    r = client.get("/admin/commissions.csv")
    assert r.headers["Content-Disposition"].startswith(
        'attachment; filename="offload-commissions-')
    header, row = rows_of(r)
    assert header[:6] == ["created", "commission id", "project id", "gig", "performer",
                          "referrer"]
    as_dict = dict(zip(header, row, strict=True))
    assert as_dict["gig"] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert (as_dict["performer"], as_dict["referrer"], as_dict["invoiced"],
            as_dict["commission"], as_dict["platform share"], as_dict["referrer share"],
            as_dict["state"]) == ("performer", "referrer", "400.00", "40.00", "12.00",
                                  "28.00", "paid")
    assert as_dict["paid"].endswith("+00:00")


def test_the_csvs_page_through_the_keyset(client, login, admin, app, make_gig, make_offer,
                                          make_member, fund, monkeypatch):
    clicker = make_member("clicker")
    fund(clicker, 10_00)
    offers = [make_offer(make_gig(kind="task"), clicker, fee_kind="prepaid")
              for _ in range(5)]
    monkeypatch.setitem(app.config, "CSV_PAGE_SIZE", 2)
    login(admin)
    r = client.get("/admin/revenue.csv")
    assert r.is_streamed
    _, *rows = rows_of(r)
    assert [row[6] for row in rows] == [f"offer #{o.id}" for o in reversed(offers)]


def test_the_dashboard_links_to_both_and_members_get_404(client, login, admin, make_member):
    login(admin)
    html = client.get("/admin").get_data(as_text=True)
    assert 'href="/admin/revenue.csv"' in html and 'href="/admin/commissions.csv"' in html
    login(make_member("nosy"))
    assert client.get("/admin/revenue.csv").status_code == 404
    assert client.get("/admin/commissions.csv").status_code == 404
