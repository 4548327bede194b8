"""Loading offers and proposals for a viewer: their maker, the gig's poster and admins
see them; everyone else, and a missing id, get NotFound."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import NotFound

from offload.offers import negotiation
from offload.offers.queries import offer_for, proposal_for


def test_offer_for_answers_the_parties_and_admins(app, make_member, make_gig, make_offer):
    poster, maker, other = make_member(), make_member(), make_member()
    admin = make_member(admin=True)
    offer = make_offer(make_gig(poster), maker)
    for viewer in (poster, maker, admin):
        assert offer_for(viewer, offer.id).id == offer.id
    for viewer, offer_id in ((other, offer.id), (poster, 10**9)):
        with pytest.raises(NotFound):
            offer_for(viewer, offer_id)


def test_proposal_for_follows_its_offer(app, make_member, make_gig, make_offer):
    poster, maker, other = make_member(), make_member(), make_member()
    offer = make_offer(make_gig(poster), maker)
    proposal = negotiation.propose_terms(offer, actor=poster, price_minor=350_00,
                                         days_to_deliver=10)
    assert proposal_for(maker, proposal.id).id == proposal.id
    for viewer, proposal_id in ((other, proposal.id), (maker, 10**9)):
        with pytest.raises(NotFound):
            proposal_for(viewer, proposal_id)
