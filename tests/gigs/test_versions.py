"""``gigs.version`` and ``offers.version`` go up with every UPDATE of the row, whether
the ORM flushes it or a guarded Core ``update()`` moves it: the fragment cache keys a
row's HTML by it, so a change it missed would show a stale row."""

from __future__ import annotations

from sqlalchemy import select

from offload.core.db import atomic, db
from offload.gigs import services
from offload.gigs.lifecycle import move_gigs
from offload.gigs.models import Gig, GigState
from offload.offers.models import Offer
from offload.offers.services import shortlist_offer, withdraw_offer


def version_of(model, row_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(model.version).where(model.id == row_id))


def test_every_update_of_a_gig_bumps_its_version(make_member, make_gig):
    alice = make_member()
    gig = make_gig(alice, publish=False)
    assert version_of(Gig, gig.id) == 1
    services.publish_gig(gig, actor=alice)  # a guarded transition: Core update()
    published = version_of(Gig, gig.id)
    assert published > 1
    services.edit_gig(db.session.get(Gig, gig.id), actor=alice, title="A new title",
                      description="New text", skill_names=["Rust"], category="backend",
                      budget_min_minor=50_000, budget_max_minor=100_000,
                      deadline=gig.deadline, client_details=None)
    edited = version_of(Gig, gig.id)
    assert edited > published
    with atomic():  # the expiry job's path: many gigs in one statement
        move_gigs(GigState.OPEN, GigState.EXPIRED, Gig.id == gig.id)
    assert version_of(Gig, gig.id) == edited + 1


def test_every_update_of_an_offer_bumps_its_version(make_member, make_gig, make_offer):
    alice, bob = make_member(), make_member()
    offer = make_offer(make_gig(alice), bob)
    assert version_of(Offer, offer.id) == 1
    shortlist_offer(db.session.get(Offer, offer.id), actor=alice)
    shortlisted = version_of(Offer, offer.id)
    assert shortlisted > 1
    withdraw_offer(db.session.get(Offer, offer.id), actor=bob)
    assert version_of(Offer, offer.id) > shortlisted
