"""gigs.closing: what closing gigs does to their offers, supplied by the offer services."""

from __future__ import annotations

from datetime import date

import pytest

from offload.gigs import closing
from offload.offers import services as offers
from offload.offers.models import OfferClosedReason


def test_create_app_installs_the_offer_services():
    assert closing._side.close_offers_on_gigs is offers.close_offers_on_gigs
    assert closing._side.take_back_awards_on_gigs is offers.take_back_awards_on_gigs
    assert closing._side.lapse_unanswered_awards is offers.lapse_unanswered_awards


def test_the_gig_reasons_are_the_reasons_offers_record():
    for why in closing.GigClosed:
        assert OfferClosedReason(why) == why.value


def test_uninstalled_closing_a_gig_raises(monkeypatch):
    monkeypatch.setattr(closing, "_side", None)
    with pytest.raises(RuntimeError, match="create_app"):
        closing.close_offers_on_gigs([1], reason="Testing.", closed=closing.GigClosed.EXPIRED)
    with pytest.raises(RuntimeError, match="create_app"):
        closing.lapse_unanswered_awards(today=date.today())
