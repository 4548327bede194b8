"""The settlement section when the invoiced amount is under the agreed price: the
performer's reason, the referrer's Accept and Contest, the admin's correction on the
case page, and what each side reads afterwards."""

from __future__ import annotations

import re

from sqlalchemy import select, update

from offload.accounts.models import User
from offload.cases.models import Case
from offload.commissions.models import Commission, InvoiceReview
from offload.core.db import db
from tests.support.factories import PASSWORD


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def _key(text: str, prefix: str) -> str:
    return re.search(rf'name="{prefix}-idempotency_key" type="hidden" value="([^"]+)"',
                     text).group(1)


def complete_under_price(client, login, project, performer, *, reason="Scope was cut."):
    login(performer)
    text = page(client, f"/projects/{project.id}")
    return client.post(f"/projects/{project.id}/complete", data={
        "complete-idempotency_key": _key(text, "complete"), "complete-invoiced": "250",
        "complete-reason": reason})


def commission() -> Commission:
    db.session.rollback()
    return db.session.scalar(select(Commission))


def test_under_the_price_without_a_reason_keeps_the_form_and_changes_nothing(
        client, login, start_project, performer):
    project = start_project()
    response = complete_under_price(client, login, project, performer, reason="  ")
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "$250.00 is under the agreed price ($400.00): say why." in text
    assert 'value="250"' in text  # what was typed stays
    assert commission() is None


def test_the_referrer_sees_both_amounts_and_the_reason_and_accepts(
        client, login, start_project, referrer, performer, make_member):
    project = start_project()
    assert complete_under_price(client, login, project, performer).status_code == 302
    text = page(client, f"/projects/{project.id}")
    assert "Contest the amount" not in text  # not the performer's to review
    response = client.post(f"/projects/{project.id}/commission/accept-invoice")
    assert response.status_code == 422  # refused, and the page says why
    assert "Only the referrer reviews the invoiced amount." in response.get_data(as_text=True)
    assert commission().review_state == InvoiceReview.AWAITING
    login(make_member("nosy"))
    assert client.post(f"/projects/{project.id}/commission/accept-invoice").status_code == 404
    login(referrer)
    text = page(client, f"/projects/{project.id}")
    assert re.search(r'class="agreed">\$400\.00<', text)
    assert re.search(r'class="invoiced">\$250\.00', text)
    assert "Scope was cut." in text and "Awaiting the referrer" in text
    assert "Accept $250.00" in text and "Contest the amount" in text
    response = client.post(f"/projects/{project.id}/commission/accept-invoice")
    assert response.status_code == 302
    assert commission().review_state == InvoiceReview.ACCEPTED
    text = page(client, f"/projects/{project.id}")
    assert "Accepted" in text and "Contest the amount" not in text


def test_contest_then_an_admin_corrects_it_on_the_case_page(
        client, login, start_project, referrer, performer, make_member, fund):
    fund(performer, 100_00)
    project = start_project()
    complete_under_price(client, login, project, performer)
    login(referrer)
    response = client.post(f"/projects/{project.id}/commission/contest-invoice",
                           data={"contest-statement": ""})
    assert response.status_code == 422
    assert "Say why you contest the amount." in response.get_data(as_text=True)
    assert commission().review_state == InvoiceReview.AWAITING
    response = client.post(f"/projects/{project.id}/commission/contest-invoice",
                           data={"contest-statement": "The client paid $400."})
    assert response.status_code == 302
    assert "Contested" in page(client, f"/projects/{project.id}")
    case = db.session.scalar(select(Case))
    login(performer)  # the case is about them: they read both amounts and both statements
    text = page(client, f"/cases/{case.id}")
    assert re.search(r'class="agreed">\$400\.00<', text) and "Scope was cut." in text
    assert "The client paid $400." in text and "Corrected invoiced amount" not in text
    assert "This case holds nobody" in text and "can't send invites" not in text
    login(make_member("judge", admin=True))
    text = page(client, f"/cases/{case.id}")
    once = re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', text).group(1)
    assert "Corrected invoiced amount" in text and "The client paid $400." in text
    assert 'type="password"' in text and 'autocomplete="current-password"' in text
    response = client.post(f"/admin/cases/{case.id}/resolve", data={
        "resolution": "warned", "reason": "The receipt shows $400.", "corrected": "4.5.0",
        "password": PASSWORD, "idempotency_key": once})
    assert response.status_code == 422
    assert commission().invoiced_minor == 250_00
    for password, message in (("", "Enter your password to confirm."),
                              ("wrong-password", "Your password is not correct.")):
        response = client.post(f"/admin/cases/{case.id}/resolve", data={
            "resolution": "warned", "reason": "The receipt shows $400.", "corrected": "400",
            "password": password, "idempotency_key": once})
        assert response.status_code == 422
        text = response.get_data(as_text=True)
        field = re.search(r'<div class="field[^"]*has-error[^"]*">.*?</div>', text, re.S)
        assert field and 'name="password"' in field.group(0) and message in field.group(0)
        assert 'value="400"' in text and "The receipt shows $400." in text  # kept
        assert f'value="{once}"' in text  # the same request, so the same key
        assert commission().invoiced_minor == 250_00
    for _ in range(2):  # a double submit (the form kept its key): both land on the case
        response = client.post(f"/admin/cases/{case.id}/resolve", data={
            "resolution": "warned", "reason": "The receipt shows $400.", "corrected": "400",
            "password": PASSWORD, "idempotency_key": once})
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/cases/{case.id}")
    c = commission()
    assert (c.invoiced_minor, c.commission_minor, c.corrected_from_minor, c.state) == (
        400_00, 40_00, 250_00, "paid")
    for member in (performer, referrer):
        login(member)
        text = page(client, f"/projects/{project.id}")
        assert "Corrected by an admin" in text
        assert "the performer entered $250.00" in text
        assert re.search(r'class="commission-amount">\$40\.00', text)


def test_an_admin_who_is_a_side_reads_the_case_but_gets_no_resolve_form(
        client, login, start_project, referrer, performer):
    project = start_project()
    complete_under_price(client, login, project, performer)
    login(referrer)
    client.post(f"/projects/{project.id}/commission/contest-invoice",
                data={"contest-statement": "The client paid $400."})
    case = db.session.scalar(select(Case))
    db.session.execute(update(User).where(User.id == referrer.id).values(is_admin=True))
    db.session.commit()
    login(referrer)
    text = page(client, f"/cases/{case.id}")
    assert "You are the referrer on this commission, so another admin settles" in text
    assert "Resolve the case" not in text
    response = client.post(f"/admin/cases/{case.id}/resolve", data={
        "resolution": "cleared", "reason": "Mine.", "corrected": "1000", "password": PASSWORD})
    assert response.status_code == 422
    assert "another admin must settle the contested amount" in response.get_data(as_text=True)
    assert commission().review_state == InvoiceReview.CONTESTED
