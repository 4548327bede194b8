"""Read marks and unread counts: how far each side has read a conversation.

The mark only moves forward, never past the conversation's newest message, never counts
one's own messages, and only a POST moves it (sending a message moves the sender's).
Pages show "N unread" (the conversation, My offers, My projects, the poster's offers,
the dashboard) in a fixed number of queries, and two marks at once both land.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from offload.accounts.models import User
from offload.conversations import services as conversations
from offload.conversations.models import ConversationRead, OfferMessage
from offload.conversations.queries import reading_of, unread_conversations, unread_counts
from offload.core.db import db
from offload.core.errors import NotAllowed
from offload.offers import services
from offload.offers.models import Offer
from tests.support.app import make_app
from tests.support.factories import fresh

ROUNDS = 5


@pytest.fixture
def poster(make_member):
    return make_member("poster", display_name="Pat Poster")


@pytest.fixture
def bob(make_member):
    return make_member("bob", display_name="Bob Builder")


@pytest.fixture
def carol(make_member):
    return make_member("carol", display_name="Carol Coder")


@pytest.fixture
def admin(make_member):
    return make_member("boss", admin=True)


@pytest.fixture
def gig(make_gig, poster):
    return make_gig(poster=poster, title="Bakery website")


@pytest.fixture
def offer(gig, bob, make_offer):
    return make_offer(gig, bob)


@pytest.fixture
def start_project(make_gig, make_offer, poster, bob):
    """``start_project(title=...)``: the poster's referral gig, awarded to bob, who
    accepts; returns the project."""

    def start(**gig_fields):
        offer = make_offer(make_gig(poster=poster, **gig_fields), bob)
        services.award_offer(offer, actor=poster)
        return services.accept_award(fresh(Offer, offer.id), actor=bob)

    return start


def send(offer: Offer, sender: User, body: str = "Hello") -> int:
    """A message through the service (the sender's mark moves to it); its id."""
    return conversations.send_offer_message(fresh(Offer, offer.id), actor=sender, body=body).id


def add_messages(offer_id: int, sender_id: int, n: int) -> list[int]:
    """Messages written straight to the table (no read mark moves); their ids."""
    rows = [OfferMessage(offer_id=offer_id, sender_id=sender_id, body=f"Message {i}")
            for i in range(n)]
    db.session.add_all(rows)
    db.session.flush()
    ids = [r.id for r in rows]
    db.session.commit()
    return ids


def mark(offer: Offer, member: User, up_to: int) -> int:
    return conversations.mark_conversation_read(fresh(Offer, offer.id), actor=member,
                                                up_to_message_id=up_to)


def marks() -> dict[tuple[int, int], tuple[int, object]]:
    """Every stored mark: (offer, member) -> (last read message, read at)."""
    db.session.rollback()
    return {(r.offer_id, r.member_id): (r.last_read_message_id, r.read_at)
            for r in db.session.scalars(select(ConversationRead))}


def where(offer: Offer, member: User) -> tuple[int, int]:
    """(mark, unread) of the member in the offer's conversation."""
    db.session.rollback()
    r = reading_of(offer.id, member.id)
    return r.mark, r.unread


def page_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def mark_form(page: str) -> str | None:
    """The opening tag of the "Mark as read" form, or None when the page has none."""
    found = re.search(r"<form[^>]*data-mark-read[^>]*>", page)
    return found.group(0) if found else None


def message_classes(page: str, message_id: int) -> str:
    return re.search(rf'<li id="message-{message_id}" class="([^"]*)"', page).group(1)


def item(page: str, element_id: str) -> str:
    """The HTML of the list item with ``element_id`` (up to the next list item)."""
    start = page.index(f'id="{element_id}"')
    end = page.find("<li ", start)
    return page[start:end if end != -1 else len(page)]


def describe(errors: list[BaseException]) -> str:
    return "; ".join(sorted({f"{type(e).__name__}: {e}"[:300] for e in errors}))


# --- the service ---------------------------------------------------------------------------

def test_a_conversation_without_messages_keeps_no_mark(offer, bob, poster):
    assert mark(offer, bob, 10**9) == 0
    assert mark(offer, poster, 0) == 0
    assert marks() == {}
    assert where(offer, bob) == (0, 0)


def test_sending_moves_the_senders_mark_and_leaves_the_others_unread(offer, bob, poster):
    first = send(offer, poster, "Can you start Monday?")
    second = send(offer, poster, "Also: the logo.")
    assert where(offer, poster) == (second, 0)
    assert where(offer, bob) == (0, 2)
    answer = send(offer, bob, "Yes, and yes.")
    # bob answered after seeing both: his own message takes his mark past them
    assert where(offer, bob) == (answer, 0)
    assert where(offer, poster) == (second, 1)
    later = send(offer, poster, "Great")
    assert where(offer, bob) == (answer, 1)
    assert first < second < answer < later


def test_the_mark_only_moves_forward(offer, bob, poster):
    ids = add_messages(offer.id, poster.id, 5)
    assert mark(offer, bob, ids[3]) == ids[3]
    assert mark(offer, bob, ids[1]) == ids[3]  # a stale tab can't move it back
    assert where(offer, bob) == (ids[3], 1)
    assert mark(offer, bob, ids[4]) == ids[4]
    assert where(offer, bob) == (ids[4], 0)
    assert len(marks()) == 1


def test_a_lower_mark_than_the_first_message_still_returns_the_stored_mark(offer, bob,
                                                                           poster):
    ids = add_messages(offer.id, poster.id, 3)
    assert mark(offer, bob, ids[2]) == ids[2]
    # "Returns the read mark now stored": a page that showed nothing yet (up_to=0)
    assert mark(offer, bob, 0) == ids[2]
    assert where(offer, bob) == (ids[2], 0)


def test_the_mark_is_clamped_to_the_conversations_newest_message(offer, gig, bob, carol,
                                                                 poster, make_offer):
    ids = add_messages(offer.id, poster.id, 2)
    assert mark(offer, bob, ids[-1] + 1000) == ids[-1]
    later = add_messages(offer.id, poster.id, 1)
    # a mark stored past the newest message would have swallowed this one
    assert where(offer, bob) == (ids[-1], 1)
    assert mark(offer, bob, later[0]) == later[0]
    # between two messages: the newest one at or below; another conversation's ids
    # count for nothing
    other = make_offer(gig, carol)
    a = add_messages(offer.id, poster.id, 1)[0]
    elsewhere = add_messages(other.id, poster.id, 1)[0]
    b = add_messages(offer.id, poster.id, 1)[0]
    assert a < elsewhere < b
    assert mark(offer, bob, elsewhere) == a
    assert where(offer, bob) == (a, 1)


def test_ones_own_messages_are_never_unread(offer, gig, bob, carol, poster, make_offer):
    add_messages(offer.id, bob.id, 3)  # no mark moved: rows written directly
    assert where(offer, bob) == (0, 0)
    assert where(offer, poster) == (0, 3)
    other = make_offer(gig, carol)
    add_messages(other.id, poster.id, 2)
    assert unread_counts(bob.id, [offer.id]) == {}
    assert unread_counts(poster.id, [offer.id, other.id]) == {offer.id: 3}
    assert unread_counts(carol.id, [other.id]) == {other.id: 2}
    mark(offer, bob, 10**9)  # bob marking his own messages read changes nothing for poster
    assert where(offer, poster) == (0, 3)


def test_poster_and_offerer_keep_their_own_marks(offer, gig, bob, carol, poster, make_offer):
    other = make_offer(gig, carol)
    to_bob = add_messages(offer.id, poster.id, 2)
    from_bob = add_messages(offer.id, bob.id, 3)
    add_messages(other.id, carol.id, 4)
    assert unread_counts(poster.id, [offer.id, other.id]) == {offer.id: 3, other.id: 4}
    assert unread_counts(bob.id, [offer.id]) == {offer.id: 2}
    mark(offer, poster, from_bob[-1])
    assert unread_counts(poster.id, [offer.id, other.id]) == {other.id: 4}
    assert unread_counts(bob.id, [offer.id]) == {offer.id: 2}  # untouched by the poster's
    mark(offer, bob, to_bob[0])
    assert unread_counts(bob.id, [offer.id]) == {offer.id: 1}
    assert where(offer, poster) == (from_bob[-1], 0)
    assert unread_counts(poster.id, []) == {}


def test_only_the_two_sides_keep_a_mark(offer, gig, bob, carol, admin, poster, make_offer):
    make_offer(gig, carol)
    ids = add_messages(offer.id, poster.id, 2)
    for outsider in (admin, carol):
        with pytest.raises(NotAllowed, match="Only the two sides"):
            mark(offer, outsider, ids[-1])
    assert marks() == {}
    assert where(offer, bob) == (0, 2)


def test_unread_conversations_for_both_roles_with_the_project_it_became(
        make_gig, make_offer, poster, bob, carol):
    mine = make_gig(poster=bob, title="Bobs own gig")
    on_mine = make_offer(mine, carol)
    talking = make_offer(make_gig(poster=poster, title="Talking gig"), bob)
    took = make_offer(make_gig(poster=poster, title="Project gig"), bob)
    quiet = make_offer(make_gig(poster=poster, title="Quiet gig"), bob)
    services.award_offer(took, actor=poster)
    services.accept_award(fresh(Offer, took.id), actor=bob)
    add_messages(on_mine.id, carol.id, 1)
    add_messages(talking.id, poster.id, 3)
    add_messages(took.id, poster.id, 2)
    add_messages(quiet.id, bob.id, 2)  # only bob's own: nothing unread
    db.session.rollback()
    found = [(c.offer_id, c.gig_title, c.project_id is not None, c.unread)
             for c in unread_conversations(bob.id)]
    assert found == [(talking.id, "Talking gig", False, 3), (took.id, "Project gig", True, 2),
                     (on_mine.id, "Bobs own gig", False, 1)]
    assert [c.offer_id for c in unread_conversations(bob.id, limit=2)] == [talking.id,
                                                                           took.id]
    assert unread_conversations(carol.id) == []
    assert [c.offer_id for c in unread_conversations(poster.id)] == [quiet.id]


def test_two_marks_at_once_both_land_and_the_higher_one_wins(offer, bob, poster, race):
    bob_id, offer_id = bob.id, offer.id
    for n in range(ROUNDS):
        ids = add_messages(offer_id, poster.id, 4)
        if n == 0:
            assert marks() == {}  # the first round: both threads insert the row at once
        # which thread has the higher mark alternates between rounds
        ups = [ids[1], ids[3]] if n % 2 else [ids[3], ids[1]]

        def mark_at_once(i, ups=ups):
            return conversations.mark_conversation_read(
                db.session.get(Offer, offer_id), actor=db.session.get(User, bob_id),
                up_to_message_id=ups[i])

        results, errors = race(2, mark_at_once)
        assert errors == [], describe(errors)
        assert sorted(results) in ([ids[1], ids[3]], [ids[3], ids[3]])
        assert where(offer, bob) == (ids[3], 0)
        assert db.session.scalar(select(func.count()).select_from(ConversationRead)) == 1


# --- the mark-read route ---------------------------------------------------------------------

JSON = {"Accept": "application/json"}


def test_the_live_page_marks_read_with_json(client, login, offer, bob, poster):
    ids = add_messages(offer.id, poster.id, 3)
    login(bob)
    response = client.post(f"/conversations/{offer.id}/messages/read", data={"up_to": ids[1]},
                           headers=JSON)
    assert response.status_code == 204 and response.data == b""
    assert where(offer, bob) == (ids[1], 1)
    response = client.post(f"/conversations/{offer.id}/messages/read", data={"up_to": ids[0]},
                           headers=JSON)
    assert response.status_code == 204
    assert where(offer, bob) == (ids[1], 1)
    for data in ({}, {"up_to": "abc"}, {"up_to": "-1"}):
        response = client.post(f"/conversations/{offer.id}/messages/read", data=data, headers=JSON)
        assert response.status_code == 422, data
        assert response.is_json and response.get_json()["error"], data
    assert where(offer, bob) == (ids[1], 1)


def test_an_admin_is_refused_with_json_and_with_a_flash(client, login, offer, admin, poster):
    ids = add_messages(offer.id, poster.id, 1)
    login(admin)
    response = client.post(f"/conversations/{offer.id}/messages/read", data={"up_to": ids[0]},
                           headers=JSON)
    assert response.status_code == 422
    assert response.get_json() == {
        "error": "Only the two sides of a conversation keep a read mark."}
    response = client.post(f"/conversations/{offer.id}/messages/read", data={"up_to": ids[0]})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/offers/{offer.id}#messages"
    page = page_of(client, f"/offers/{offer.id}")
    assert "Only the two sides of a conversation keep a read mark." in page
    assert mark_form(page) is None and "Mark as read" not in page
    assert marks() == {}


def test_without_javascript_the_button_marks_and_goes_back_to_the_messages(
        client, login, offer, bob, poster):
    ids = add_messages(offer.id, poster.id, 2)
    login(bob)
    response = client.post(f"/conversations/{offer.id}/messages/read", data={"up_to": ids[-1]})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/offers/{offer.id}#messages"
    assert where(offer, bob) == (ids[-1], 0)
    response = client.post(f"/conversations/{offer.id}/messages/read", data={"up_to": ""})
    assert response.status_code == 302
    assert "Reload the page and try again." in page_of(client, f"/offers/{offer.id}")


def test_on_an_accepted_offer_the_button_goes_back_to_the_projects_messages(
        client, login, offer, bob, poster):
    services.award_offer(offer, actor=poster)
    project = services.accept_award(fresh(Offer, offer.id), actor=bob)
    ids = add_messages(offer.id, bob.id, 1)
    login(poster)
    response = client.post(f"/conversations/{offer.id}/messages/read", data={"up_to": ids[0]})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/projects/{project.id}#messages"
    assert where(offer, poster) == (ids[0], 0)


def test_outsiders_get_404_and_leave_no_mark(client, login, offer, gig, carol, poster,
                                             make_offer):
    make_offer(gig, carol)
    ids = add_messages(offer.id, poster.id, 1)
    assert client.post(f"/conversations/{offer.id}/messages/read",
                       data={"up_to": ids[0]}).status_code == 404  # anonymous
    login(carol)
    for headers in ({}, JSON):
        assert client.post(f"/conversations/{offer.id}/messages/read", data={"up_to": ids[0]},
                           headers=headers).status_code == 404
    assert client.post("/conversations/999999/messages/read", data={"up_to": 1}).status_code == 404
    assert marks() == {}


@pytest.fixture
def csrf_app(app, tmp_path):
    return make_app(tmp_path, WTF_CSRF_ENABLED=True,
                    SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])


def test_marking_read_needs_the_csrf_token(csrf_app, offer, bob, poster):
    from tests.support.factories import PASSWORD

    ids = add_messages(offer.id, poster.id, 2)
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"login": "bob", "password": PASSWORD,
                                       "csrf_token": token}).status_code == 302
    for headers in ({}, JSON):
        response = client.post(f"/conversations/{offer.id}/messages/read", data={"up_to": ids[-1]},
                               headers=headers)
        assert response.status_code == 400, headers
        assert "The form expired" in response.get_data(as_text=True)
    response = client.post(f"/conversations/{offer.id}/messages/read",
                           data={"up_to": ids[-1], "csrf_token": "forged"}, headers=JSON)
    assert response.status_code == 400
    assert marks() == {}
    page = page_of(client, f"/offers/{offer.id}")
    form = re.search(r"<form[^>]*data-mark-read.*?</form>", page, re.S).group(0)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    up_to = re.search(r'name="up_to" value="(\d+)"', form).group(1)
    assert int(up_to) == ids[-1]
    response = client.post(f"/conversations/{offer.id}/messages/read",
                           data={"up_to": up_to, "csrf_token": token}, headers=JSON)
    assert response.status_code == 204
    assert where(offer, bob) == (ids[-1], 0)


# --- reading pages never moves the mark --------------------------------------------------------

def test_getting_the_pages_never_moves_a_mark(client, login, offer, bob, poster, count_queries):
    services.award_offer(offer, actor=poster)
    project = services.accept_award(fresh(Offer, offer.id), actor=bob)
    ids = add_messages(offer.id, poster.id, 3)
    mark(offer, bob, ids[0])
    before = marks()
    login(bob)
    with count_queries() as statements:
        page_of(client, f"/offers/{offer.id}")
        page_of(client, f"/projects/{project.id}")
        response = client.get(f"/conversations/{offer.id}/messages/since?after=0")
        assert response.status_code == 200 and len(response.get_json()["messages"]) == 3
        page_of(client, "/my/offers")
        page_of(client, "/my/projects")
        page_of(client, "/dashboard")
    assert not [s for s in statements if "conversation_reads" in s
                and not s.lstrip().upper().startswith("SELECT")]
    assert marks() == before
    assert where(offer, bob) == (ids[0], 2)
    login(poster)  # the other side had no mark; looking doesn't make one
    page_of(client, f"/offers/{offer.id}")
    page_of(client, f"/projects/{project.id}")
    client.get(f"/conversations/{offer.id}/messages/since?after=0")
    assert marks() == before


# --- what the pages show ----------------------------------------------------------------------

def test_the_offer_page_shows_the_unread_count_and_marks_new_messages(
        client, login, offer, bob, poster):
    asked = send(offer, poster, "Question one")
    answered = send(offer, bob, "Answer one")
    later = [send(offer, poster, "Question two"), send(offer, poster, "Question three")]
    login(bob)
    page = page_of(client, f"/offers/{offer.id}")
    form = mark_form(page)
    assert form is not None and "hidden" not in form
    assert '<span class="pill unread-count">2 unread</span>' in page
    assert f'name="up_to" value="{later[-1]}"' in page
    assert message_classes(page, asked) == "message"  # before bob's answer: read
    assert message_classes(page, answered) == "message"  # his own
    for m in later:
        assert message_classes(page, m) == "message unread"
    assert page.count('<span class="pill new">new</span>') == 2
    client.post(f"/conversations/{offer.id}/messages/read", data={"up_to": later[-1]})
    page = page_of(client, f"/offers/{offer.id}")
    assert "hidden" in mark_form(page)
    assert "unread" not in message_classes(page, later[-1])
    assert '<span class="pill new">' not in page
    login(poster)
    page = page_of(client, f"/offers/{offer.id}")
    assert "hidden" in mark_form(page)  # the poster's own messages came last
    assert "unread" not in message_classes(page, answered)


def test_an_admin_reads_the_conversation_without_a_mark_form(client, login, offer, admin,
                                                             poster, bob):
    send(offer, poster, "Hello")
    services.award_offer(fresh(Offer, offer.id), actor=poster)
    project = services.accept_award(fresh(Offer, offer.id), actor=bob)
    send(offer, bob, "Starting")
    login(admin)
    for url in (f"/offers/{offer.id}", f"/projects/{project.id}"):
        page = page_of(client, url)
        assert "Starting" in page
        assert mark_form(page) is None and "Mark as read" not in page, url
        assert '<span class="pill new">' not in page and " unread<" not in page, url


def test_the_project_page_shows_the_unread_count_and_the_form(client, login, start_project,
                                                              poster, bob):
    referrer, performer = poster, bob
    project = start_project()
    ids = add_messages(project.offer_id, referrer.id, 2)
    own = add_messages(project.offer_id, performer.id, 1)
    login(performer)
    page = page_of(client, f"/projects/{project.id}")
    form = mark_form(page)
    assert form is not None and "hidden" not in form
    assert f'action="/conversations/{project.offer_id}/messages/read"' in form
    assert '<span class="pill unread-count">2 unread</span>' in page
    assert [message_classes(page, i) for i in ids + own] == [
        "message unread", "message unread", "message"]
    response = client.post(f"/conversations/{project.offer_id}/messages/read",
                           data={"up_to": own[0]})
    assert response.headers["Location"] == f"/projects/{project.id}#messages"
    page = page_of(client, f"/projects/{project.id}")
    assert "hidden" in mark_form(page) and '<span class="pill new">' not in page
    login(referrer)
    page = page_of(client, f"/projects/{project.id}")
    assert '<span class="pill unread-count">1 unread</span>' in page


def test_my_offers_shows_a_pill_on_conversations_with_unread_messages(
        client, login, make_gig, make_offer, poster, bob):
    talking = make_offer(make_gig(poster=poster, title="Talking gig"), bob)
    quiet = make_offer(make_gig(poster=poster, title="Quiet gig"), bob)
    add_messages(talking.id, poster.id, 2)
    add_messages(quiet.id, bob.id, 3)
    login(bob)
    page = page_of(client, "/my/offers")
    assert page.count('class="pill unread-count"') == 1
    talking_item = page[page.index(f'href="/offers/{talking.id}"'):]
    talking_item = talking_item[:talking_item.index("</div>")]
    assert "2 unread" in talking_item
    quiet_item = page[page.index(f'href="/offers/{quiet.id}"'):]
    assert "unread" not in quiet_item[:quiet_item.index("</div>")]
    mark(talking, bob, 10**9)
    assert "unread-count" not in page_of(client, "/my/offers")


def test_my_projects_shows_a_pill_on_projects_with_unread_messages(client, login,
                                                                   start_project, poster, bob):
    referrer, performer = poster, bob
    talking = start_project(title="Talking project")
    quiet = start_project(title="Quiet project")
    add_messages(talking.offer_id, referrer.id, 3)
    login(performer)
    page = page_of(client, "/my/projects")
    assert "3 unread" in item(page, f"project-{talking.id}")
    assert "unread" not in item(page, f"project-{quiet.id}")
    login(referrer)
    assert "unread-count" not in page_of(client, "/my/projects")


def test_the_posters_ranked_offers_show_the_unread_pills(client, login, gig, offer, poster,
                                                         bob, carol, admin, make_offer):
    other = make_offer(gig, carol)
    add_messages(offer.id, bob.id, 2)
    add_messages(other.id, poster.id, 1)  # the poster's own: nothing unread
    login(poster)
    for url in (f"/gigs/{gig.id}", f"/gigs/{gig.id}/offers"):
        page = page_of(client, url)
        assert "2 unread" in item(page, f"offer-{offer.id}"), url
        assert "unread" not in item(page, f"offer-{other.id}"), url
    mark(offer, poster, 10**9)
    assert "unread-count" not in page_of(client, f"/gigs/{gig.id}")
    add_messages(offer.id, bob.id, 1)
    login(admin)  # admins see the ranking but have no marks
    for url in (f"/gigs/{gig.id}", f"/gigs/{gig.id}/offers"):
        page = page_of(client, url)
        assert f'id="offer-{offer.id}"' in page and "unread-count" not in page, url
    login(bob)
    assert "unread-count" not in page_of(client, f"/gigs/{gig.id}")


def test_the_dashboard_lists_unread_conversations_with_links(client, login, make_gig,
                                                             make_offer, poster, bob):
    login(bob)
    assert "Unread messages" not in page_of(client, "/dashboard")
    talking = make_offer(make_gig(poster=poster, title="Talking gig"), bob)
    took = make_offer(make_gig(poster=poster, title="Project gig"), bob)
    services.award_offer(took, actor=poster)
    project = services.accept_award(fresh(Offer, took.id), actor=bob)
    add_messages(talking.id, poster.id, 1)
    add_messages(took.id, poster.id, 2)
    page = page_of(client, "/dashboard")
    card = page[page.index("Unread messages"):]
    card = card[:card.index("</section>")]
    assert f'href="/projects/{project.id}#messages">Project gig</a>' in card
    assert f'href="/offers/{talking.id}#messages">Talking gig</a>' in card
    assert card.index("Project gig") < card.index("Talking gig")  # most unread first
    assert re.findall(r"(\d+) unread", card) == ["2", "1"]
    login(poster)
    assert "Unread messages" not in page_of(client, "/dashboard")  # the poster sent them
    mark(took, bob, 10**9)
    mark(talking, bob, 10**9)
    login(bob)
    assert "Unread messages" not in page_of(client, "/dashboard")


# --- a fixed number of queries ------------------------------------------------------------------

def _queries(client, count_queries, url: str) -> int:
    with count_queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def _conversations(make_gig, make_offer, member, others, n: int, *, projects: int = 0):
    """``n`` conversations where ``member`` has unread messages: offers of theirs on
    others' gigs and, every third, others' offers on a gig of theirs; the first
    ``projects`` of their offers are accepted."""
    poster, offerer = others
    for i in range(n):
        if i % 3 == 2:
            offer = make_offer(make_gig(poster=member), offerer)
            add_messages(offer.id, offerer.id, 1 + i % 4)
            continue
        offer = make_offer(make_gig(poster=poster), member)
        if projects:
            projects -= 1
            services.award_offer(offer, actor=poster)
            services.accept_award(fresh(Offer, offer.id), actor=member)
        add_messages(offer.id, poster.id, 1 + i % 4)


def test_my_offers_and_the_dashboard_run_the_same_queries_with_few_or_many_unread(
        client, login, make_gig, make_offer, bob, poster, carol, count_queries):
    _conversations(make_gig, make_offer, bob, (poster, carol), 3, projects=1)
    login(bob)
    assert "Unread messages" in page_of(client, "/dashboard")
    before = {url: _queries(client, count_queries, url)
              for url in ("/my/offers", "/dashboard", "/my/projects")}
    _conversations(make_gig, make_offer, bob, (poster, carol), 30, projects=3)
    after = {url: _queries(client, count_queries, url) for url in before}
    assert after == before
    page = page_of(client, "/dashboard")
    card = page[page.index("Unread messages"):]
    assert card[:card.index("</section>")].count("unread-count") == 10  # the first ten
    assert page_of(client, "/my/offers").count("unread-count") >= 10


@pytest.mark.parametrize("after", ["²", "99999999999999999999", "-1", ""])
def test_a_cursor_that_is_no_id_gives_the_whole_conversation(client, login, offer, bob, poster,
                                                             after):
    """``str.isdigit`` is true for "²" (int() raises) and a huge number overflows: a 500."""
    ids = add_messages(offer.id, poster.id, 2)
    login(bob)
    response = client.get(f"/conversations/{offer.id}/messages/since",
                          query_string={"after": after})
    assert response.status_code == 200
    assert [m["id"] for m in response.get_json()["messages"]] == ids
