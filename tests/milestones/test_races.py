"""Lost races on the project page: the page was loaded, the other side (or another tab)
moved the milestone, dispute or proposal on, then the form was sent. Each answers 422
with the project page, which says at its top (role="alert") what happened, even when
the form that was sent is no longer on the page."""

from __future__ import annotations

import html as markup
import itertools
import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from offload.core.db import db, utcnow
from offload.milestones import disputes, price
from offload.milestones import services as ms
from offload.milestones.models import Dispute, Milestone, PriceProposal
from offload.projects.models import Project
from tests.support.factories import PASSWORD

_keys = itertools.count(1)


def fresh(model, id_):
    db.session.rollback()
    return db.session.get(model, id_)


def refused(response, reason: str) -> str:
    """The page-level region of a 422 project page, which must name ``reason``."""
    assert response.status_code == 422, response.status_code
    html = response.get_data(as_text=True)
    match = re.search(r'<div[^>]*id="refused"[^>]*role="alert".*?</div>', html, re.S)
    assert match, "no page-level error region"
    assert reason in markup.unescape(match.group(0)), match.group(0)
    return html


def loaded(client, project) -> str:
    response = client.get(f"/projects/{project.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture
def task(start_project, referrer, performer, fund):
    """A $400 task project; the customer (referrer) has $400 to fund milestones."""
    fund(performer, 1_00)
    fund(referrer, 400_00)
    return start_project(kind="task")


def milestone(project, customer, amount=100_00, *, funded=True) -> Milestone:
    m = ms.add_milestone(fresh(Project, project.id), actor=customer, title="Exports",
                         amount_minor=amount, due_on=utcnow().date() + timedelta(days=5))
    if funded:
        ms.fund_milestone(fresh(Milestone, m.id), actor=customer,
                          idempotency_key=f"race-{next(_keys)}")
    return fresh(Milestone, m.id)


def test_a_dispute_on_a_milestone_just_released(client, login, task, referrer, performer):
    m = milestone(task, referrer)
    login(performer)
    assert "Open the dispute" in loaded(client, task)
    ms.release_milestone(fresh(Milestone, m.id), actor=referrer)
    html = refused(client.post(f"/milestones/{m.id}/dispute",
                               data={f"dispute-{m.id}-statement": "It isn't done."}),
                   "This milestone was already released")
    assert "Open the dispute" not in html  # the form is gone: the top says why
    assert fresh(Milestone, m.id).state == "released"


def test_a_delivery_on_a_milestone_just_refunded_by_a_cancellation(client, login, task,
                                                                  referrer, performer):
    m = milestone(task, referrer)
    login(performer)
    assert "Deliver" in loaded(client, task)
    db.session.execute(update(Project).where(Project.id == task.id)
                       .values(due_on=utcnow().date() - timedelta(days=1)))
    db.session.commit()
    ms.cancel_task_project(fresh(Project, task.id), actor=referrer)
    refused(client.post(f"/milestones/{m.id}/deliver", data={f"deliver-{m.id}-note": "Done"}),
            "This milestone was already refunded to the customer.")
    assert fresh(Milestone, m.id).state == "refunded"


def test_a_release_of_a_milestone_just_disputed(client, login, task, referrer, performer):
    m = milestone(task, referrer)
    login(referrer)
    assert "Release $100.00" in loaded(client, task)
    disputes.open_dispute(fresh(Milestone, m.id), actor=performer, statement="Unpaid work.")
    refused(client.post(f"/milestones/{m.id}/release"), "This milestone is in dispute")
    assert fresh(Milestone, m.id).state == "disputed"


def test_a_revision_of_a_milestone_just_released(client, login, task, referrer, performer):
    m = milestone(task, referrer)
    ms.deliver_milestone(fresh(Milestone, m.id), actor=performer, note="On staging")
    login(referrer)
    assert "Ask for a revision" in loaded(client, task)
    ms.release_milestone(fresh(Milestone, m.id), actor=referrer)  # from another tab
    refused(client.post(f"/milestones/{m.id}/revision",
                        data={f"revision-{m.id}-note": "Once more"}),
            "This milestone was already released")


def test_funding_twice_and_removing_a_milestone_funded_meanwhile(client, login, task,
                                                                 referrer):
    m = milestone(task, referrer, funded=False)
    login(referrer)
    text = loaded(client, task)
    key = re.search(rf'name="fund-{m.id}-idempotency_key" type="hidden" value="([^"]+)"',
                    text).group(1)
    ms.fund_milestone(fresh(Milestone, m.id), actor=referrer, idempotency_key="other-tab")
    refused(client.post(f"/milestones/{m.id}/fund",
                        data={f"fund-{m.id}-idempotency_key": key}),
            "This milestone was already funded.")
    refused(client.post(f"/milestones/{m.id}/remove"), "This milestone was already funded.")
    assert fresh(Milestone, m.id).state == "funded"


def test_funding_a_milestone_removed_meanwhile(client, login, task, referrer):
    m = milestone(task, referrer, funded=False)
    login(referrer)
    text = loaded(client, task)
    key = re.search(rf'name="fund-{m.id}-idempotency_key" type="hidden" value="([^"]+)"',
                    text).group(1)
    ms.remove_milestone(fresh(Milestone, m.id), actor=referrer)
    refused(client.post(f"/milestones/{m.id}/fund",
                        data={f"fund-{m.id}-idempotency_key": key}),
            "This milestone was removed.")


def test_adding_a_milestone_to_a_project_completed_meanwhile(client, login, task, referrer,
                                                             performer):
    m = milestone(task, referrer, 400_00)
    login(referrer)
    assert "Release $400.00" in loaded(client, task)
    ms.release_milestone(fresh(Milestone, m.id), actor=referrer)
    refused(client.post(f"/projects/{task.id}/milestones", data={
        "milestone-title": "More", "milestone-amount": "10",
        "milestone-due_on": (utcnow().date() + timedelta(days=3)).isoformat()}),
        "This project has ended: it was already completed.")


def test_cancelling_a_project_delivered_meanwhile(client, login, task, referrer, performer):
    m = milestone(task, referrer)
    db.session.execute(update(Project).where(Project.id == task.id)
                       .values(due_on=utcnow().date() - timedelta(days=1)))
    db.session.commit()
    login(referrer)
    assert "Cancel the project" in loaded(client, task)
    ms.deliver_milestone(fresh(Milestone, m.id), actor=performer, note="Late, but here")
    refused(client.post(f"/projects/{task.id}/cancel"),
            "Work was delivered: the project can't be cancelled")
    assert fresh(Project, task.id).state == "active"


def test_replying_to_a_dispute_decided_meanwhile(client, login, task, referrer, performer,
                                                 make_member):
    m = milestone(task, referrer)
    dispute = disputes.open_dispute(fresh(Milestone, m.id), actor=referrer,
                                    statement="Nothing arrived.")
    login(performer)
    assert "Add your statement" in loaded(client, task)
    disputes.resolve_dispute(fresh(Dispute, dispute.id), actor=make_member("judge", admin=True),
                             outcome="refund", reason="No delivery.", password=PASSWORD)
    html = refused(client.post(f"/milestones/disputes/{dispute.id}/reply",
                               data={f"reply-{dispute.id}-statement": "It did."}),
                   "This dispute was already decided by an admin")
    assert "Add your statement" not in html and "Reason: No delivery." in html


def test_an_admin_deciding_a_dispute_already_decided(client, login, task, referrer,
                                                     make_member):
    m = milestone(task, referrer)
    dispute = disputes.open_dispute(fresh(Milestone, m.id), actor=referrer,
                                    statement="Nothing arrived.")
    judge, other = make_member("judge", admin=True), make_member("other", admin=True)
    login(judge)
    assert "Resolve the dispute" in client.get(f"/admin/disputes/{dispute.id}").get_data(
        as_text=True)
    disputes.resolve_dispute(fresh(Dispute, dispute.id), actor=other, outcome="refund",
                             reason="No delivery.", password=PASSWORD)
    response = client.post(f"/admin/disputes/{dispute.id}", data={
        "outcome": "release", "reason": "It was delivered.", "password": PASSWORD})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    alert = re.search(r'<div[^>]*role="alert".*?</div>', html, re.S).group(0)
    assert "This dispute was already decided; nothing was changed." in alert
    assert fresh(Dispute, dispute.id).outcome == "refund"


def test_proposing_a_price_when_the_other_side_just_did(client, login, task, referrer,
                                                        performer):
    login(referrer)
    assert "Propose a lower price" in loaded(client, task)
    price.propose_lower_price(fresh(Project, task.id), actor=performer, price_minor=300_00,
                              reason="Less to do.")
    html = refused(client.post(f"/projects/{task.id}/price", data={
        "price-price": "200", "price-reason": "Scope cut."}),
        "A proposal to lower the price is waiting for an answer")
    assert "Accept $300.00" in html  # the other side's proposal, to answer instead


@pytest.mark.parametrize("action", ["accept", "decline"])
def test_answering_a_proposal_withdrawn_meanwhile(client, login, task, referrer, performer,
                                                  action):
    proposal = price.propose_lower_price(fresh(Project, task.id), actor=performer,
                                         price_minor=300_00, reason="Less to do.")
    login(referrer)
    assert "Accept $300.00" in loaded(client, task)
    price.withdraw_lower_price(fresh(PriceProposal, proposal.id), actor=performer)
    refused(client.post(f"/projects/{task.id}/price/{action}",
                        data={"proposal": str(proposal.id)}),
            "This proposal was already withdrawn.")
    assert fresh(Project, task.id).price_minor == 400_00


def test_withdrawing_a_proposal_declined_meanwhile(client, login, task, referrer, performer):
    proposal = price.propose_lower_price(fresh(Project, task.id), actor=performer,
                                         price_minor=300_00, reason="Less to do.")
    login(performer)
    assert "Withdraw the proposal" in loaded(client, task)
    price.decline_lower_price(fresh(PriceProposal, proposal.id), actor=referrer)
    refused(client.post(f"/projects/{task.id}/price/withdraw",
                        data={"proposal": str(proposal.id)}),
            "This proposal was already declined.")
