"""The admin dashboard: revenue, the ledger check and its failures, what waits in each
queue."""

from __future__ import annotations

import re

from sqlalchemy import text

from offload.accounts.models import User
from offload.cases.models import Case
from offload.cases.reports import report_member
from offload.cases.services import resolve_case
from offload.core.db import atomic, db
from tests.support.factories import fresh


def text_of(response) -> str:
    return response.get_data(as_text=True)


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return text_of(response)


def report(reporter, subject, body="Asked me to pay outside Offload.", project_id=None):
    return report_member(actor=fresh(User, reporter.id), subject=fresh(User, subject.id),
                         body=body, project_id=project_id)


def test_the_admin_page_shows_revenue_and_the_ledger_check(client, queue):
    html = client.get("/admin").get_data(as_text=True)
    assert "Platform revenue" in html and "<strong data-revenue>$0.00</strong>" in html
    assert "OK:</strong> all" in html and "checks pass" in html
    assert "<strong>1</strong> withdrawal waiting" in html
    assert 'href="/admin" aria-current="page"' in html


def test_the_admin_page_lists_ledger_failures(client, queue):
    _alice, w = queue
    with atomic():
        db.session.execute(text("UPDATE withdrawals SET amount_minor = 1 WHERE id = :id"),
                           {"id": w.id})
    html = client.get("/admin").get_data(as_text=True)
    assert "The ledger check failed" in html
    assert f"Invariant 10 (withdrawal matches its hold)</strong>: withdrawal {w.id}" in html
    with atomic():
        db.session.execute(text("UPDATE withdrawals SET amount_minor = 2000 WHERE id = :id"),
                           {"id": w.id})
    assert "checks pass" in client.get("/admin").get_data(as_text=True)


def test_the_admin_dashboard_counts_cases_reports_and_suspensions(
        client, login, open_case_about, admin, sam, tom, gina):
    open_case_about(tom)
    resolve_case(fresh(Case, open_case_about(sam).id), actor=fresh(User, admin.id),
                 resolution="suspended", reason="Took the deposit.")
    report(tom, gina)
    report(gina, tom)
    login(admin)
    text = page(client, "/admin")
    assert re.search(r"data-open-cases>1<", text)
    assert re.search(r"data-pending-reports>2<", text)
    assert "1 suspended member" in text
