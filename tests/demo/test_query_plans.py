"""Query plans of the hot reads the gig fixture of tests/gigs/test_query_plans.py can't
reach: the project page's timeline and conversation, the wallet's history, the poster's
ranked offers and the gig page's matching members, on the generated data set (both
databases; same rules: no full scan of a big table, no sort unless bounded and named)."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from offload.accounts.models import User
from offload.conversations.queries import conversation_page
from offload.core.db import db
from offload.demo.generate import generate
from offload.gigs.queries import gig_page, matching_members_for
from offload.offers.queries import offers_tab, ranked_offers_page
from offload.projects.models import Project
from offload.projects.page import project_page
from offload.wallet.queries import wallet_history_page
from offload.wallet.services import add_funds
from tests.support.plans import assert_indexed


@pytest.fixture
def made(app):
    out = generate(300, 2000, say=lambda *_: None)
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    # SQLite reads the statistics when a connection loads the schema: pooled connections
    # opened by earlier tests in this process would plan with the old ones
    db.engine.dispose()
    return out


def _member(username: str) -> User:
    return db.session.scalars(select(User).where(User.username == username)).one()


def test_the_project_page_and_the_wallet_walk_their_indexes(app, made, monkeypatch):
    member = _member(made.login)
    project = db.session.get(Project, made.showcase_project_id)
    offer_id = project.offer_id
    page = project_page(made.showcase_project_id, member)
    assert page is not None and page.events.next_cursor
    cursor = page.events.next_cursor
    assert_indexed(lambda: project_page(made.showcase_project_id, member))
    assert_indexed(lambda: project_page(made.showcase_project_id, member, cursor))
    messages = conversation_page(offer_id, None)
    assert messages.next_cursor
    assert_indexed(lambda: conversation_page(offer_id, None))
    assert_indexed(lambda: conversation_page(offer_id, messages.next_cursor))
    for n in range(3):  # more than a page of history, both ways
        add_funds(actor=member, amount_minor=10_00, idempotency_key=f"plan-{n}")
    db.session.commit()
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    history = wallet_history_page(member.id, None)
    assert history.next_cursor
    # merges the newest page-size + 1 of the account's debits and of its credits (each
    # an index walk): it sorts at most twice a page
    assert_indexed(lambda: wallet_history_page(member.id, None), sort_allowed=True)
    assert_indexed(lambda: wallet_history_page(member.id, history.next_cursor),
                   sort_allowed=True)


def test_ranked_offers_and_matching_members_sort_bounded_sets_only(made):
    poster = _member(made.showcase_poster)
    gig = gig_page(made.showcase_gig_id, poster).gig  # skills loaded (a rollback unloads)
    # the ranked list sorts one gig's live offers by the offerer's rating (computed, so
    # no index has that order): bounded by the gig; found through the gig's index
    assert_indexed(lambda: offers_tab(gig, poster), sort_allowed=True)
    page = ranked_offers_page(gig.id)
    assert page.next_cursor
    assert_indexed(lambda: ranked_offers_page(gig.id, page.next_cursor), sort_allowed=True)
    # the matching members group at most MEMBER_MATCH_CANDIDATES per skill of the gig,
    # each skill's walked backwards on its index
    assert matching_members_for(gig_page(gig.id, poster).gig)
    assert_indexed(lambda: matching_members_for(gig_page(gig.id, poster).gig),
                   sort_allowed=True)
