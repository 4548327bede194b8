"""Conversation services on the real database: who may write, what is kept, who is
told, and the conversation going on as the project's after the award."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from offload.accounts.models import User
from offload.conversations.models import OfferMessage
from offload.conversations.services import send_offer_message
from offload.core.db import atomic, db
from offload.core.errors import Conflict, InvalidField, NotAllowed
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks
from offload.notifications.models import Notification
from offload.offers import services
from offload.offers.models import Offer
from tests.support.factories import count, fresh
from tests.support.offers import notes


def test_both_sides_write_to_each_other(task_gig, poster, bob, make_offer):
    offer = make_offer(task_gig, bob)
    asked = send_offer_message(offer, actor=poster, body="  Can you start Monday?\n")
    answered = send_offer_message(fresh(Offer, offer.id), actor=bob, body="Yes.")
    rows = [(m.sender_id, m.body) for m in db.session.scalars(
        select(OfferMessage).where(OfferMessage.offer_id == offer.id).order_by(OfferMessage.id))]
    assert rows == [(poster.id, "Can you start Monday?"), (bob.id, "Yes.")]
    assert notes(bob, "new_message") == [f"Poster wrote about “{task_gig.title}”"]
    assert notes(poster, "new_message") == [f"Bob wrote about “{task_gig.title}”"]
    db.session.rollback()
    links = set(db.session.scalars(select(Notification.link).where(
        Notification.kind == "new_message")))
    assert links == {f"/offers/{offer.id}#message-{asked.id}",
                     f"/offers/{offer.id}#message-{answered.id}"}


def test_the_conversation_goes_on_as_the_projects_and_closes_for_the_others(
        task_gig, poster, bob, carol, make_offer):
    offer = make_offer(task_gig, bob)
    other = make_offer(task_gig, carol)
    services.award_offer(offer, actor=poster)
    send_offer_message(fresh(Offer, offer.id), actor=bob, body="Thinking about it.")
    services.accept_award(fresh(Offer, offer.id), actor=bob)
    send_offer_message(fresh(Offer, offer.id), actor=poster, body="Welcome!")
    with pytest.raises(Conflict, match="conversation is closed"):
        send_offer_message(fresh(Offer, other.id), actor=poster, body="Sorry")
    assert count(OfferMessage) == 2
    assert run_checks(MONEY_CHECKS) == []


def test_message_refusals(task_gig, poster, bob, carol, stranger, make_offer):
    offer = make_offer(task_gig, bob)
    make_offer(task_gig, carol)
    for actor in (stranger, carol):
        with pytest.raises(NotAllowed, match="Only the poster and the member"):
            send_offer_message(fresh(Offer, offer.id), actor=actor, body="Hello")
    with pytest.raises(InvalidField, match="can't be empty") as refused:
        send_offer_message(fresh(Offer, offer.id), actor=bob, body=" \n ")
    assert refused.value.field == "body"
    with pytest.raises(InvalidField, match="at most 5,000"):
        send_offer_message(fresh(Offer, offer.id), actor=bob, body="x" * 5001)
    services.withdraw_offer(fresh(Offer, offer.id), actor=bob)
    with pytest.raises(Conflict, match="conversation is closed"):
        send_offer_message(fresh(Offer, offer.id), actor=poster, body="Why?")
    assert count(OfferMessage) == 0
    assert notes(poster, "new_message") == [] and notes(bob, "new_message") == []


def test_an_unconfirmed_party_is_not_allowed_to_write(task_gig, poster, bob, make_offer):
    offer = make_offer(task_gig, bob)
    with atomic():
        db.session.execute(update(User).where(User.id == poster.id)
                           .values(email_confirmed_at=None))
    with pytest.raises(NotAllowed, match="Confirm your e-mail"):
        send_offer_message(fresh(Offer, offer.id), actor=fresh(User, poster.id),
                                    body="Hello")
    assert count(OfferMessage) == 0
