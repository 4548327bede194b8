"""The project page against the agreed price: what is scheduled, paid and unscheduled, the
release button's warning, the add form's limit, and closing short from the page."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from offload.core.db import db, utcnow
from offload.milestones import price
from offload.milestones import services as ms
from offload.milestones.models import Milestone, PriceProposal
from offload.offers.services import accept_award, award_offer
from offload.projects.models import Project
from tests.support.factories import fresh

_keys = itertools.count(1)


@pytest.fixture
def task320(make_gig, make_offer, referrer, performer, fund):
    fund(performer, 1_00)
    fund(referrer, 500_00)
    gig = make_gig(poster=referrer, kind="task")
    offer = make_offer(gig, performer, fee_kind="prepaid", price_minor=320_00)
    award_offer(offer, actor=referrer)
    return accept_award(offer, actor=performer)


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def funded(project, customer, amount, title="Part") -> Milestone:
    m = ms.add_milestone(fresh(Project, project.id), actor=customer, title=title,
                         amount_minor=amount, due_on=utcnow().date() + timedelta(days=5))
    ms.fund_milestone(fresh(Milestone, m.id), actor=customer,
                      idempotency_key=f"view-price-{next(_keys)}")
    return fresh(Milestone, m.id)


def facts(text: str) -> dict[str, str]:
    block = text[text.index('class="facts price-progress"'):]
    block = block[:block.index("</dl>")]
    return {dt: re.sub(r"<[^>]+>", "", dd).strip()
            for dt, dd in re.findall(r"<dt>([^<]+)</dt><dd[^>]*>(.*?)</dd>", block)}


def test_the_page_shows_the_price_and_warns_before_the_last_release(
        client, login, task320, referrer, performer):
    first = funded(task320, referrer, 10_00, "A first small part")
    login(referrer)
    text = page(client, f"/projects/{task320.id}")
    assert facts(text) == {"Agreed price": "$320.00", "Scheduled": "$10.00", "Paid": "$0.00",
                           "Unscheduled": "$310.00"}
    assert ("This is the last funded milestone; $310.00 of the $320.00 price is not "
            "scheduled yet: the project stays open.") in text
    assert client.post(f"/milestones/{first.id}/release").status_code == 302
    text = page(client, f"/projects/{task320.id}")
    assert facts(text)["Paid"] == "$10.00" and facts(text)["Unscheduled"] == "$310.00"
    assert "Active" in text and "Add the milestone" in text
    assert "At most $310.00: what is left of the price to schedule." in text
    last = funded(task320, referrer, 310_00, "The rest")
    text = page(client, f"/projects/{task320.id}")
    assert "Releasing this completes the project: the whole $320.00 is paid." in text
    assert "Add the milestone" not in text  # all of it is scheduled
    client.post(f"/milestones/{last.id}/release")
    assert fresh(Project, task320.id).state == "completed"


def test_a_milestone_over_the_price_is_refused_and_keeps_what_was_typed(
        client, login, task320, referrer):
    login(referrer)
    response = client.post(f"/projects/{task320.id}/milestones", data={
        "milestone-title": "Everything and more", "milestone-amount": "320.01",
        "milestone-due_on": (utcnow().date() + timedelta(days=3)).isoformat()})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Milestones add up to the agreed price, $320.00: enter at most $320.00." in text
    assert 'value="Everything and more"' in text and 'value="320.01"' in text
    assert db.session.scalar(select(Milestone.id)) is None


def test_closing_short_from_the_page(client, login, task320, referrer, performer):
    first = funded(task320, referrer, 120_00)
    ms.release_milestone(first, actor=referrer)
    login(performer)
    text = page(client, f"/projects/{task320.id}")
    assert "Propose a lower price" in text and "It can't go below $120.00" in text
    response = client.post(f"/projects/{task320.id}/price", data={
        "price-price": "100", "price-reason": "The rest was dropped"})
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The price can&#39;t go below $120.00: $120.00 is paid." in text
    assert "The rest was dropped" in text and 'value="100"' in text
    response = client.post(f"/projects/{task320.id}/price", data={
        "price-price": "120", "price-reason": ""})
    assert response.status_code == 422 and "Say why the price should be lower." in \
        response.get_data(as_text=True)
    assert db.session.scalar(select(PriceProposal.id)) is None
    response = client.post(f"/projects/{task320.id}/price", data={
        "price-price": "120", "price-reason": "The rest was dropped"})
    assert response.status_code == 302
    proposal = db.session.scalar(select(PriceProposal))
    text = page(client, f"/projects/{task320.id}")
    assert "Withdraw the proposal" in text and "Accept $120.00" not in text

    login(referrer)
    text = page(client, f"/projects/{task320.id}")
    assert "proposes lowering the price to <strong>$120.00</strong>" in text
    assert "Accepting completes the project now: $120.00 is paid." in text
    response = client.post(f"/projects/{task320.id}/price/accept",
                           data={"proposal": str(proposal.id + 1)})  # not the one shown
    assert response.status_code == 422 and fresh(Project, task320.id).price_minor == 320_00
    assert "That proposal is no longer there." in response.get_data(as_text=True)
    client.post(f"/projects/{task320.id}/price/accept", data={"proposal": str(proposal.id)})
    project = fresh(Project, task320.id)
    assert (project.state, project.price_minor) == ("completed", 120_00)
    text = page(client, f"/projects/{task320.id}")
    assert "(lowered from $320.00 by agreement)" in text
    assert "The agreed price is now $120.00 (was $320.00)." in text


def test_a_declined_proposal_leaves_the_form_for_another(client, login, task320, referrer,
                                                        performer):
    proposal = price.propose_lower_price(task320, actor=referrer, price_minor=200_00,
                                         reason="Scope cut")
    login(performer)
    client.post(f"/projects/{task320.id}/price/decline", data={"proposal": str(proposal.id)})
    assert fresh(PriceProposal, proposal.id).state == "declined"
    text = page(client, f"/projects/{task320.id}")
    assert "The price stays $320.00; $200.00 was declined." in text
    assert "Propose a lower price" in text


def test_an_admin_closes_the_project_with_the_dispute_decision(
        client, login, task320, referrer, performer, make_member):
    from offload.milestones import disputes
    from tests.support.factories import PASSWORD

    first, other = funded(task320, referrer, 200_00), funded(task320, referrer, 20_00, "Two")
    dispute = disputes.open_dispute(first, actor=performer, statement="The customer vanished")
    login(make_member("judge", admin=True))
    text = page(client, f"/admin/disputes/{dispute.id}")
    assert ("The project's agreed price is $320.00: $0.00 paid, $220.00 held in escrow "
            "(this milestone's $200.00 among it), $100.00 not scheduled.") in text
    data = {"outcome": "split", "released": "150", "reason": "Most of it was done",
            "password": PASSWORD, "close_project": "y"}
    response = client.post(f"/admin/disputes/{dispute.id}", data=data)
    text = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "$20.00 is still held in escrow in other milestones" in text
    assert "Most of it was done" in text and 'value="150"' in text
    assert re.search(r'<input [^>]*checked[^>]*name="close_project"', text)  # still ticked
    ms.release_milestone(fresh(Milestone, other.id), actor=referrer)
    assert client.post(f"/admin/disputes/{dispute.id}", data=data).status_code == 302
    project = fresh(Project, task320.id)
    assert (project.state, project.price_minor) == ("completed", 170_00)


@pytest.mark.parametrize("action", ["accept", "decline", "withdraw"])
@pytest.mark.parametrize("raw", ["²", "99999999999999999999", "-1", "", "0", " 1"])
def test_a_proposal_id_that_is_no_id_is_refused_and_changes_nothing(
        client, login, task320, referrer, performer, action, raw):
    """``str.isdigit`` is true for "²" (int() raises) and a huge number overflows the
    INTEGER id: both were a 500."""
    proposal = price.propose_lower_price(task320, actor=performer, price_minor=200_00,
                                         reason="Scope cut")
    login(performer if action == "withdraw" else referrer)
    response = client.post(f"/projects/{task320.id}/price/{action}", data={"proposal": raw})
    assert response.status_code == 422
    assert "That proposal is no longer there. Reload the page." in response.get_data(
        as_text=True)
    assert fresh(PriceProposal, proposal.id).state == "pending"
    assert fresh(Project, task320.id).price_minor == 320_00


def test_the_answer_names_the_drafts_accepting_takes_off(client, login, task320, referrer,
                                                         performer):
    first = funded(task320, referrer, 100_00, "Paid part")
    ms.release_milestone(first, actor=referrer)
    for title in ("Older draft", "Newer draft"):
        ms.add_milestone(fresh(Project, task320.id), actor=referrer, title=title,
                         amount_minor=100_00, due_on=utcnow().date() + timedelta(days=5))
    price.propose_lower_price(fresh(Project, task320.id), actor=performer,
                              price_minor=250_00, reason="Scope cut")
    login(referrer)
    text = page(client, f"/projects/{task320.id}")
    assert ("Milestones not funded yet are kept, oldest first, while they fit under $250.00 "
            "with what is paid and held; accepting takes off the rest: “Newer draft”.") in text
