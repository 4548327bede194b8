"""The dashboard leads with what the member mainly does, and shows both sides."""

from __future__ import annotations

from offload.accounts.models import WorkRole
from offload.core.db import db
from offload.gigs.models import Gig
from offload.gigs.services import cancel_gig, edit_gig
from offload.offers.models import Offer
from offload.offers.services import withdraw_offer
from offload.profiles.services import set_member_skills, update_profile
from offload.reviews.models import MemberRating
from tests.support.app import without_signed_tokens


def dashboard(client) -> str:
    response = client.get("/dashboard")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def set_role(user, role: WorkRole) -> None:
    user.work_role = role
    db.session.commit()


def test_a_member_who_takes_on_work_sees_offers_projects_and_stars_first(
        client, login, make_gig, make_offer, start_project, referrer, performer):
    project = start_project(title="Payments rebuild")
    open_gig = make_gig(poster=referrer, title="Search tuning")
    offer = make_offer(open_gig, performer)
    set_role(performer, WorkRole.TAKE_ON)
    login(performer)
    page = dashboard(client)
    assert page.index('id="taking-on"') < page.index('id="passing-on"')
    taking = page[page.index('id="taking-on"'):page.index('id="passing-on"')]
    assert f'href="/offers/{offer.id}">Search tuning</a>' in taking
    assert f'href="/projects/{project.id}">Payments rebuild</a>' in taking
    assert "Your stars" in taking and "no reviews yet" in taking
    assert "leads with the work you take on" in page


def test_a_member_who_passes_on_work_sees_their_gigs_first(
        client, login, make_gig, start_project, referrer):
    start_project(title="Payments rebuild")
    make_gig(poster=referrer, title="Search tuning")
    set_role(referrer, WorkRole.PASS_ON)
    login(referrer)
    page = dashboard(client)
    assert page.index('id="passing-on"') < page.index('id="taking-on"')
    passing = page[page.index('id="passing-on"'):page.index('id="taking-on"')]
    in_progress = passing[passing.index("In progress"):passing.index("Requested")]
    requested = passing[passing.index("Requested"):passing.index("Completed")]
    assert "Payments rebuild" in in_progress and "Search tuning" not in in_progress
    assert "Search tuning" in requested
    assert "None completed yet." in passing


def test_a_member_who_does_both_sees_both_sides(client, login, make_member):
    login(make_member("both"))  # the default
    page = dashboard(client)
    assert 'id="passing-on"' in page and 'id="taking-on"' in page
    assert "No live offers" in page and "No open gigs" in page


def test_the_dashboard_reads_each_list_in_a_bounded_number_of_queries(
        client, login, make_gig, make_offer, performer, referrer, count_queries):
    for n in range(8):
        make_offer(make_gig(poster=referrer, title=f"Gig {n}"), performer)
    login(performer)
    with count_queries() as few:
        dashboard(client)
    for n in range(8, 12):
        make_offer(make_gig(poster=referrer, title=f"Gig {n}"), performer)
    with count_queries() as more:
        page = dashboard(client)
    # the member (and the top bar's counts), the hook's cases, the member's skills (none:
    # no matching gigs to read), awards, unread counts (none: no titles to read), the
    # five lists of work in one union, the rating with the projects completed (and
    # SQLite's BEGIN)
    counted = [len([s for s in run if s.strip().upper() != "BEGIN"]) for run in (few, more)]
    assert counted == [7, 7], "\n".join(more)
    assert page.count('href="/offers/') == 5  # the newest few; "All your offers" has the rest


def test_the_stars_a_member_earned_are_on_their_dashboard(client, login, make_member):
    taker = make_member("taker", work_role="take_on", projects_completed=3)
    db.session.add(MemberRating(member_id=taker.id, reviews=2, stars_sum=10))
    db.session.commit()
    login(taker)
    taking = dashboard(client).split('id="taking-on"', 1)[1]
    assert "(2 reviews)" in taking and "3 projects completed" in taking
    assert 'href="/members/taker/reviews"' in taking


def matching(page: str) -> str:
    return page[page.index('id="matching-heading"'):]


def your_offers(page: str) -> str:
    return page[page.index("<h3>Your offers</h3>"):page.index("<h3>Your projects</h3>")]


def test_a_change_shows_on_the_next_dashboard_never_a_stale_fragment(
        client, login, make_member, make_gig, make_offer):
    # the matching gigs are one cached fragment keyed by their rows: an edited gig, a
    # renamed poster, a gig gone from the list each make a new key
    alice, bob = make_member("alice"), make_member("bob")
    set_member_skills(actor=bob, skill_names=["Python"])
    gig = make_gig(alice, title="Old title", skill_names=["Python"])
    other = make_gig(alice, title="Other gig", skill_names=["Python"])
    offer = make_offer(make_gig(alice, title="Offered on"), bob)
    login(bob)
    first = dashboard(client)
    assert "Old title" in matching(first) and "Other gig" in matching(first)
    # from the cache, the same page (but for the forms' CSRF tokens)
    assert without_signed_tokens(dashboard(client)) == without_signed_tokens(first)
    row = db.session.get(Gig, gig.id)
    edit_gig(row, actor=alice, title="New title", description=row.description,
             skill_names=["Python"], category=row.category,
             budget_min_minor=row.budget_min_minor, budget_max_minor=row.budget_max_minor,
             deadline=row.deadline, client_details=None)
    page = matching(dashboard(client))
    assert "New title" in page and "Old title" not in page
    update_profile(actor=alice, display_name="Alice Renamed", headline="", bio="",
                   location="")
    page = matching(dashboard(client))
    assert page.count("Alice Renamed") == 3 and ">alice<" not in page
    cancel_gig(db.session.get(Gig, other.id), actor=alice)
    assert "Other gig" not in matching(dashboard(client))
    assert "Offered on" in your_offers(dashboard(client))
    withdraw_offer(db.session.get(Offer, offer.id), actor=bob)
    assert "Offered on" not in your_offers(dashboard(client))
