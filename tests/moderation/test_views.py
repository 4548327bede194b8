"""The moderation log page (every member reads it; filter by action and member; keyset
pages) and the admin dashboard's numbers."""

from __future__ import annotations

from datetime import timedelta

from offload.core.db import atomic, utcnow
from offload.moderation.models import ModerationEntry
from offload.moderation.services import record_moderation


def _entries(admin, subject, count: int, action: str = "gig_cancelled") -> None:
    with atomic():
        for n in range(count):
            entry = record_moderation(actor=admin, action=action, subject_type="gig",
                                      subject_id=n + 1, reason=f"Reason {n}",
                                      subject_user=subject)
            entry.created_at = utcnow() - timedelta(minutes=count - n)


def rows(page: str) -> str:
    """The log's table body (the nav shows the viewer's own name)."""
    return page[page.index("<tbody>"):page.index("</tbody>")] if "<tbody>" in page else ""


def test_members_read_the_log_with_reason_subject_and_when_but_not_who(
        client, login, make_member):
    admin = make_member("root", admin=True, display_name="Root Admin")
    bob = make_member("bob", inviter=admin, display_name="Bob Builder")
    _entries(admin, bob, 2)
    assert client.get("/moderation").status_code == 302  # log in first
    login(bob)
    page = client.get("/moderation").get_data(as_text=True)
    table = rows(page)
    assert "gig cancelled" in table and "Reason 1" in table and "Bob Builder" in table
    assert table.index("Reason 1") < table.index("Reason 0")  # newest first
    assert "Root Admin" not in page


def test_the_log_filters_by_action_and_member(client, login, make_member):
    admin = make_member("root", admin=True)
    bob = make_member("bob", inviter=admin, display_name="Bob Builder")
    cy = make_member("cy", inviter=admin, display_name="Cy Coder")
    _entries(admin, bob, 1, action="gig_cancelled")
    _entries(admin, cy, 1, action="case_warned")
    login(bob)
    only_cases = rows(client.get("/moderation?action=case_warned").get_data(as_text=True))
    assert "Cy Coder" in only_cases and "Bob Builder" not in only_cases
    only_bob = rows(client.get("/moderation?member=@bob").get_data(as_text=True))
    assert "Bob Builder" in only_bob and "Cy Coder" not in only_bob
    nobody = client.get("/moderation?member=ghost").get_data(as_text=True)
    assert "No member is called @ghost" in nobody and "Nothing here for this filter" in nobody


def test_the_log_pages_with_a_fixed_number_of_queries(app, client, login, make_member,
                                                      count_queries):
    admin = make_member("root", admin=True)
    bob = make_member("bob", inviter=admin)
    size = app.config["PAGE_SIZE"]
    _entries(admin, bob, size + 3)
    login(bob)
    with count_queries() as statements:
        first = client.get("/moderation").get_data(as_text=True)
    assert first.count('id="entry-') == size and "Older" in first
    older = first[first.index('href="/moderation?before='):].split('"')[1].replace("&amp;", "&")
    with count_queries() as more_statements:
        second = client.get(older).get_data(as_text=True)
    assert second.count('id="entry-') == 3
    assert len(more_statements) == len(statements)


def test_the_admin_dashboard_shows_the_sites_numbers(client, login, make_member):
    from offload.cases.services import open_case
    from offload.wallet.services import add_funds, request_withdrawal

    admin = make_member("root", admin=True)
    bob = make_member("bob", inviter=admin)
    make_member("newbie", inviter=bob, confirmed=False)
    open_case(actor=admin, subject=bob, kind="other", summary="Checking")
    add_funds(actor=bob, amount_minor=50_00, idempotency_key="dash-funds")
    request_withdrawal(actor=bob, amount_minor=20_00, payout_details="IBAN X",
                       idempotency_key="dash-withdrawal")
    login(admin)
    page = client.get("/admin").get_data(as_text=True)
    assert 'data-members>3 (2 confirmed, 0 suspended)' in page
    assert 'data-reserved>$20.00' in page and 'data-escrow>$0.00' in page
    assert 'data-open-cases>1<' in page and 'data-pending-reports>0<' in page
    assert ModerationEntry.query.count() == 1  # opening the case


def test_private_decisions_stay_off_the_public_log(client, login, make_member):
    """Withdrawals, disputes, exports and answers to reports concern their members only."""
    admin = make_member("root", admin=True)
    bob = make_member("bob", inviter=admin, display_name="Bob Builder")
    with atomic():
        for action in ("withdrawal_paid", "dispute_split", "conversation_exported",
                       "report_dismissed", "case_evidence_added"):
            record_moderation(actor=admin, action=action, subject_type="x", subject_id=1,
                              reason=f"secret {action}", subject_user=bob)
        record_moderation(actor=admin, action="case_warned", subject_type="case",
                          subject_id=1, reason="public warning", subject_user=bob)
    login(bob)
    page = client.get("/moderation").get_data(as_text=True)
    assert "public warning" in page and "secret" not in page
    assert "secret" not in client.get("/moderation?action=withdrawal_paid").get_data(
        as_text=True)
    assert '<option value="withdrawal_paid"' not in page


def test_linking_evidence_is_one_logged_action_and_a_double_submit_is_refused(make_member):
    import pytest

    from offload.cases.services import add_evidence, open_case
    from offload.core.errors import Conflict
    from offload.gigs.services import post_gig

    admin = make_member("root", admin=True)
    bob = make_member("bob", inviter=admin)
    gig = post_gig(actor=bob, kind="task", title="A task", description="Do it.",
                   skill_names=["Python"], category="web", budget_min_minor=100_00,
                   budget_max_minor=100_00, deadline=utcnow().date() + timedelta(days=9))
    case = open_case(actor=admin, subject=bob, kind="other", summary="x" * 2000,
                     evidence=[("gig", gig.id)])  # the longest summary opens it
    assert [e.action for e in ModerationEntry.query.all()] == ["case_opened"]
    with pytest.raises(Conflict):
        add_evidence(case, actor=admin, kind="gig", target_id=gig.id)
    assert ModerationEntry.query.count() == 1
