"""Lost races on the project page's own forms (timeline, completion, commission): the
page was loaded, the project or its commission moved on, then the form was sent. Each
answers 422 with the page, which says at its top (role="alert") what happened."""

from __future__ import annotations

import html as markup
import re

from offload.cases.invoices import contest_invoice
from offload.commissions.models import Commission
from offload.commissions.services import accept_invoice, complete_referral, pay_commission
from offload.core.db import db
from offload.projects.models import Project


def fresh(model, id_):
    db.session.rollback()
    return db.session.get(model, id_)


def refused(response, reason: str) -> str:
    """The page-level region of a 422 project page, which must name ``reason``."""
    assert response.status_code == 422, response.status_code
    text = response.get_data(as_text=True)
    match = re.search(r'<div[^>]*id="refused"[^>]*role="alert".*?</div>', text, re.S)
    assert match, "no page-level error region"
    assert reason in markup.unescape(match.group(0)), match.group(0)
    return text


def loaded(client, project) -> str:
    response = client.get(f"/projects/{project.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def key(text: str, prefix: str) -> str:
    return re.search(rf'name="{prefix}-idempotency_key" type="hidden" value="([^"]+)"',
                     text).group(1)


def completed(project, performer, *, invoiced=1000_00, reason="") -> Commission:
    complete_referral(fresh(Project, project.id), actor=performer, invoiced_minor=invoiced,
                      idempotency_key=f"race-complete-{project.id}", invoice_reason=reason)
    return db.session.scalar(db.select(Commission).where(Commission.project_id == project.id))


def test_posting_on_a_timeline_closed_meanwhile(client, login, start_project, performer):
    project = start_project()
    login(performer)
    assert "Post on the timeline" in loaded(client, project)
    completed(project, performer)
    text = refused(client.post(f"/projects/{project.id}/events", data={
        "event-kind": "update", "event-note": "Still on it"}),
        "This project has ended: its timeline is closed.")
    assert "Post on the timeline" not in text


def test_completing_from_a_second_tab(client, login, start_project, performer):
    project = start_project()
    login(performer)
    text = loaded(client, project)
    completed(project, performer)  # the first tab
    refused(client.post(f"/projects/{project.id}/complete", data={
        "complete-idempotency_key": key(text, "complete"), "complete-invoiced": "900"}),
        "This project has already ended.")
    assert fresh(Commission, db.session.scalar(db.select(Commission.id))).invoiced_minor \
        == 1000_00


def test_paying_a_commission_paid_meanwhile(client, login, start_project, performer, fund):
    project = start_project()
    completed(project, performer)  # due: the wallet is empty
    fund(performer, 500_00)
    login(performer)
    text = loaded(client, project)
    commission = db.session.scalar(db.select(Commission))
    pay_commission(commission, actor=performer, idempotency_key="race-other-tab")
    refused(client.post(f"/projects/{project.id}/commission/pay",
                        data={"pay-idempotency_key": key(text, "pay")}),
            "This commission is already paid.")


def test_accepting_an_invoice_contested_meanwhile_and_contesting_one_accepted(
        client, login, start_project, referrer, performer):
    first, second = start_project(title="First"), start_project(title="Second")
    for project in (first, second):
        completed(project, performer, invoiced=250_00, reason="Scope was cut.")
    login(referrer)
    assert "Contest the amount" in loaded(client, first)
    contest_invoice(db.session.scalar(db.select(Commission).where(
        Commission.project_id == first.id)), actor=referrer, statement="It was all done.")
    refused(client.post(f"/projects/{first.id}/commission/accept-invoice"),
            "This invoiced amount has already been reviewed.")
    assert "Contest the amount" in loaded(client, second)
    accept_invoice(db.session.scalar(db.select(Commission).where(
        Commission.project_id == second.id)), actor=referrer)
    text = refused(client.post(f"/projects/{second.id}/commission/contest-invoice",
                               data={"contest-statement": "On second thought"}),
                   "This invoiced amount has already been reviewed.")
    assert "Contest the amount" not in text
