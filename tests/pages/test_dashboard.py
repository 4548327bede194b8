"""The dashboard leads with what the member mainly does, and shows both sides."""

from __future__ import annotations

from offload.accounts.models import WorkRole
from offload.core.db import db
from offload.reviews.models import MemberRating


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
    # the member, the hook's cases, the member's skills (none: no matching gigs to
    # read), awards, unread counts (none: no titles to read), three gig lists, offers,
    # projects, the rating, the top bar's counts (and SQLite's BEGIN)
    counted = [len([s for s in run if s.strip().upper() != "BEGIN"]) for run in (few, more)]
    assert counted == [12, 12], "\n".join(more)
    assert page.count('href="/offers/') == 5  # the newest few; "All your offers" has the rest


def test_the_stars_a_member_earned_are_on_their_dashboard(client, login, make_member):
    taker = make_member("taker", work_role="take_on", projects_completed=3)
    db.session.add(MemberRating(member_id=taker.id, reviews=2, stars_sum=10))
    db.session.commit()
    login(taker)
    taking = dashboard(client).split('id="taking-on"', 1)[1]
    assert "(2 reviews)" in taking and "3 projects completed" in taking
    assert 'href="/members/taker/reviews"' in taking
