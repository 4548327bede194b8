"""The board's rows are cached HTML (``gigs/_gig_item.html``): a change to anything a
row shows (the gig, its poster's name) must show on the very next request."""

from __future__ import annotations

from offload.accounts.models import User
from offload.core.db import db
from offload.gigs import services
from offload.gigs.models import Gig
from offload.profiles.services import update_profile


def board(client, url: str = "/gigs") -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def edit(gig: Gig, actor: User, **changes) -> None:
    gig = db.session.get(Gig, gig.id)
    terms = {"title": gig.title, "description": gig.description, "skill_names": ["Python"],
             "category": gig.category, "budget_min_minor": gig.budget_min_minor,
             "budget_max_minor": gig.budget_max_minor, "deadline": gig.deadline,
             "client_details": None}
    services.edit_gig(gig, actor=actor, **{**terms, **changes})


def test_a_changed_gig_shows_at_once(client, login, make_member, make_gig):
    alice = make_member(display_name="Alice Poster")
    gig = make_gig(alice, title="Old title", skill_names=["Python"])
    login(make_member())
    assert "Old title" in board(client) and "Old title" in board(client, "/gigs?q=old")
    edit(gig, alice, title="New title", skill_names=["Rust"], budget_min_minor=77_00,
         budget_max_minor=77_00)
    for page in (board(client), board(client, "/gigs?q=new")):
        assert "New title" in page and "Old title" not in page
        assert ">Rust<" in page and ">Python<" not in page and "$77.00" in page


def test_a_changed_poster_name_shows_at_once(client, login, make_member, make_gig):
    alice = make_member(display_name="Alice Poster")
    make_gig(alice, title="Her gig")
    login(make_member())
    assert "Alice Poster" in board(client)
    update_profile(actor=db.session.get(User, alice.id), display_name="Alice Renamed",
                   headline="", bio="", location="")
    page = board(client)
    assert "Alice Renamed" in page and "Alice Poster" not in page


def test_a_gig_off_the_board_leaves_it_at_once(client, login, make_member, make_gig):
    alice = make_member()
    gig = make_gig(alice, title="Soon cancelled")
    login(make_member())
    assert "Soon cancelled" in board(client)
    services.cancel_gig(db.session.get(Gig, gig.id), actor=alice)
    assert "Soon cancelled" not in board(client)


def test_a_changed_description_shows_on_the_gig_page_at_once(client, login, make_member,
                                                             make_gig):
    alice = make_member()
    gig = make_gig(alice, description="The **old** text.")
    login(make_member())
    assert "<strong>old</strong>" in board(client, f"/gigs/{gig.id}")
    edit(gig, alice, description="The *new* text.")
    page = board(client, f"/gigs/{gig.id}")
    assert "<em>new</em>" in page and "old" not in page
