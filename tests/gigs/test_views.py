"""Gig pages through the test client, on the real database."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from offload.core.db import db, utcnow
from offload.gigs.models import ClientDetails, Gig, GigAttachment, GigState, Question
from tests.support.app import without_signed_tokens
from tests.support.factories import PDF, count, in_days, upload


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def get_page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return text(response)


def field_errors(page: str, field_id: str) -> str:
    """The error list tied to one field (``<ul class="errors" id="title-error">``)."""
    match = re.search(rf'<ul class="errors" id="{re.escape(field_id)}-error">(.*?)</ul>', page,
                      re.S)
    return match.group(1) if match else ""


def gig_data(**overrides) -> dict:
    return {"kind": "referral", "title": "Build a booking API",
            "description": "A **Flask** API for a clinic.", "skills": "Python, Flask",
            "category": "backend", "budget_min": "500", "budget_max": "900.50",
            "deadline": in_days(20).isoformat(), "client_name": "Clinic Co",
            "client_contact": "ops@clinic.example", "client_notes": "Call mornings",
            **overrides}


@pytest.fixture
def poster(make_member, login):
    member = make_member("poster")
    login(member)
    return member


# --- every page renders -------------------------------------------------------------

def test_each_page_renders_for_a_member(client, poster, make_gig):
    gig = make_gig(poster=poster)
    for url in ("/gigs", "/gigs/new", f"/gigs/{gig.id}", f"/gigs/{gig.id}/edit", "/my/gigs",
                "/my/gigs?state=open", "/dashboard"):
        get_page(client, url)


def test_dashboard_lists_matching_gigs(client, make_member, login, make_gig):
    from offload.profiles.services import save_profile

    reader = make_member("reader")
    save_profile(actor=reader, display_name="Reader", headline="", bio="", location="",
                 skill_names=["Python"])
    make_gig(title="Needs some Python")
    make_gig(title="Needs Figma only", skill_names=["Figma"])
    login(reader)
    page = get_page(client, "/dashboard")
    assert "Needs some Python" in page
    assert "Needs Figma only" not in page


# --- posting ------------------------------------------------------------------------

def test_posting_through_the_form(client, poster):
    response = client.post("/gigs/new", data=gig_data())
    assert response.status_code == 302
    gig = db.session.scalar(select(Gig))
    assert response.headers["Location"] == f"/gigs/{gig.id}"
    assert (gig.kind, gig.state, gig.poster_id) == ("referral", GigState.OPEN, poster.id)
    assert (gig.budget_min_minor, gig.budget_max_minor) == (500_00, 900_50)
    assert db.session.get(ClientDetails, gig.id).client_name == "Clinic Co"
    page = get_page(client, f"/gigs/{gig.id}")
    assert "Build a booking API" in page and "<strong>Flask</strong>" in page
    assert "10% commission on completion: 3% platform, 7% to the referrer" in page


def test_an_empty_highest_budget_means_fixed(client, poster):
    response = client.post("/gigs/new", data=gig_data(
        kind="task", budget_max="", client_name="", client_contact="", client_notes=""))
    assert response.status_code == 302
    gig = db.session.scalar(select(Gig))
    assert (gig.kind, gig.budget_min_minor, gig.budget_max_minor) == ("task", 500_00, 500_00)


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"title": "  "}, "title", "title"),
    ({"budget_min": "12.345"}, "budget_min", "two decimals"),
    ({"budget_min": "900", "budget_max": "500"}, "budget_max", "can't be below the lowest"),
    ({"deadline": (utcnow().date() - timedelta(days=1)).isoformat()}, "deadline",
     "after today"),
    ({"client_name": "", "client_contact": "", "client_notes": ""}, "client_name",
     "needs the client's name"),
    ({"skills": ""}, "skills", "1 to 10 skills"),
    ({"deadline": "next week"}, "deadline", "date"),
], ids=["empty-title", "bad-amount", "max-below-min", "past-deadline", "no-client",
        "no-skills", "bad-date"])
def test_bad_input_re_renders_with_the_message_next_to_the_field(
        client, poster, overrides, field, message):
    data = gig_data(**overrides)
    response = client.post("/gigs/new", data=data)
    assert response.status_code == 422
    page = text(response)
    assert message in field_errors(page, field), field_errors(page, field) or page[:3000]
    assert 'value="Clinic Co"' in page or field == "client_name"  # typed values kept
    assert "A **Flask** API for a clinic." in page
    assert count(Gig) == 0


def test_unconfirmed_members_are_sent_to_confirm(client, make_member, login):
    login(make_member(confirmed=False))
    assert client.get("/gigs/new").headers["Location"].startswith("/settings")
    assert client.post("/gigs/new", data=gig_data()).status_code == 302
    assert count(Gig) == 0


# --- the board ----------------------------------------------------------------------

def test_board_filters_from_the_url(client, poster, make_gig):
    make_gig(title="Django shop rebuild", kind="task", category="web",
             skill_names=["Django"], budget_min_minor=100_00, budget_max_minor=200_00)
    make_gig(title="Kubernetes migration", category="devops", skill_names=["Kubernetes"],
             budget_min_minor=5_000_00, budget_max_minor=8_000_00, deadline=in_days(90))
    page = get_page(client, "/gigs")
    assert "Django shop rebuild" in page and "Kubernetes migration" in page
    cases = {
        "/gigs?q=django": "Django shop rebuild",
        "/gigs?kind=referral": "Kubernetes migration",
        "/gigs?category=web": "Django shop rebuild",
        "/gigs?skills=kubernetes": "Kubernetes migration",
        "/gigs?budget_min=1000": "Kubernetes migration",
        "/gigs?budget_max=300": "Django shop rebuild",
        f"/gigs?due_by={in_days(40).isoformat()}": "Django shop rebuild",
    }
    for url, expected in cases.items():
        page = get_page(client, url)
        other = ({"Django shop rebuild", "Kubernetes migration"} - {expected}).pop()
        assert expected in page and other not in page, url
    page = get_page(client, "/gigs?sort=budget")
    assert page.index("Kubernetes migration") < page.index("Django shop rebuild")
    # the filter form shows what is in the URL
    assert 'value="django"' in get_page(client, "/gigs?q=django")


def test_bad_filter_values_show_messages_not_errors(client, poster, make_gig):
    make_gig(title="Still listed")
    response = client.get("/gigs?kind=nonsense&budget_min=abc&due_by=soon&sort=random"
                          "&budget_max=12.345")
    assert response.status_code == 422
    page = text(response)
    for field in ("kind", "budget_min", "due_by", "sort", "budget_max"):
        assert field_errors(page, field), field
    assert "Still listed" in page  # the usable filters still apply


def test_pager_links_keep_the_filters(app, client, poster, make_gig, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    titles = [f"Task about widgets {n}" for n in range(5)]
    for title in titles:
        make_gig(title=title, kind="task", category="web")
    make_gig(title="A referral about widgets")
    seen = []
    url = "/gigs?q=widgets&kind=task&category=web"
    for _ in range(3):
        page = get_page(client, url)
        seen += re.findall(r"Task about widgets \d", page)
        assert "A referral about widgets" not in page
        older = re.search(r'href="([^"]*)">Older', page)
        if older is None:
            break
        url = older.group(1)
        args = parse_qs(urlsplit(url).query)
        assert (args["q"], args["kind"], args["category"]) == (["widgets"], ["task"], ["web"])
        assert args["before"]
    assert sorted(seen) == sorted(titles)
    assert 'href="/gigs?' in page and "Newest" in page  # back to the first page


def test_a_search_is_by_relevance_with_newest_one_click_away(client, poster, make_gig):
    make_gig(title="Clinic calendar", description="Bookings for a physiotherapy clinic.")
    make_gig(title="Physiotherapy clinic booking", description="Appointments.")
    make_gig(title="Notes app", description="For a physiotherapist.")
    page = get_page(client, "/gigs?q=physio")
    assert re.findall(r"Physiotherapy clinic booking|Clinic calendar|Notes app", page)[0] == (
        "Physiotherapy clinic booking")
    assert '<option selected value="relevance">Relevance</option>' in page
    assert '<strong aria-current="true">Relevance</strong>' in page
    newest = re.search(r'<a href="([^"]*)">Newest</a>', page).group(1)
    assert parse_qs(urlsplit(html.unescape(newest)).query) == {"q": ["physio"],
                                                               "sort": ["newest"]}
    page = get_page(client, html.unescape(newest))
    assert re.findall(r"Physiotherapy clinic booking|Clinic calendar|Notes app", page) == [
        "Notes app", "Physiotherapy clinic booking", "Clinic calendar"]
    assert '<option selected value="newest">Newest</option>' in page
    relevance = re.search(r'<a href="([^"]*)">Relevance</a>', page).group(1)
    assert html.unescape(relevance) == "/gigs?q=physio"
    # without words there is nothing to rank: newest, and no sort line; the form still
    # offers relevance, so that words typed into it sort by relevance
    for url in ("/gigs", "/gigs?sort=relevance"):
        page = get_page(client, url)
        assert '<option selected value="relevance">Relevance</option>' in page
        assert "Sorted by" not in page
        assert re.findall(r"Physiotherapy clinic booking|Clinic calendar|Notes app",
                          page) == ["Notes app", "Physiotherapy clinic booking",
                                    "Clinic calendar"]


def test_capped_searches_say_so(app, client, poster, make_gig, monkeypatch):
    monkeypatch.setitem(app.config, "GIG_SEARCH_CANDIDATES", 2)
    for n in range(3):
        make_gig(title=f"Widget job {n}")
    assert "Only the newest 2 matches are searched" in get_page(client, "/gigs?q=widget")


# --- the gig page: client details, questions ------------------------------------------

def test_client_details_show_to_the_poster_and_admins_only(client, poster, make_member,
                                                           login, make_gig):
    gig = make_gig(poster=poster)
    assert "Acme Ltd" in get_page(client, f"/gigs/{gig.id}")
    login(make_member(admin=True))
    assert "Acme Ltd" in get_page(client, f"/gigs/{gig.id}")
    login(make_member())
    page = get_page(client, f"/gigs/{gig.id}")
    assert "Acme Ltd" not in page and "cto@acme.example" not in page
    assert gig.title in page


def test_drafts_of_others_answer_404(client, poster, make_member, login, make_gig):
    draft = make_gig(poster=poster, publish=False)
    get_page(client, f"/gigs/{draft.id}")
    login(make_member())
    assert client.get(f"/gigs/{draft.id}").status_code == 404
    assert client.get("/gigs/999999").status_code == 404


def test_ask_and_answer_through_the_pages(client, poster, make_member, login, make_gig):
    gig = make_gig(poster=poster)
    page = get_page(client, f"/gigs/{gig.id}")
    assert "Ask the poster" not in page  # not on one's own gig
    asker = make_member("asker")
    login(asker)
    response = client.post(f"/gigs/{gig.id}/questions", data={"ask-body": ""})
    assert response.status_code == 422
    assert "Write your question" in field_errors(text(response), "ask-body")
    response = client.post(f"/gigs/{gig.id}/questions",
                           data={"ask-body": "Is there a staging server?"})
    question = db.session.scalar(select(Question))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#question-{question.id}")
    page = get_page(client, f"/gigs/{gig.id}")
    assert f'id="question-{question.id}"' in page and "Is there a staging server?" in page
    assert "Not answered yet." in page
    # only the poster answers
    response = client.post(f"/gigs/questions/{question.id}/answer",
                           data={f"q{question.id}-answer": "I answer for them"})
    assert response.status_code == 422 and "Only the member who posted" in text(response)
    login(poster)
    assert f'name="q{question.id}-answer"' in get_page(client, f"/gigs/{gig.id}")
    response = client.post(f"/gigs/questions/{question.id}/answer",
                           data={f"q{question.id}-answer": "Yes, on Heroku."})
    assert response.status_code == 302
    login(asker)
    page = get_page(client, f"/gigs/{gig.id}")
    assert "Yes, on Heroku." in page and "I answer for them" not in page
    db.session.refresh(question)
    assert question.answer == "Yes, on Heroku."


def test_the_poster_cannot_ask_on_their_own_gig(client, poster, make_gig):
    gig = make_gig(poster=poster)
    response = client.post(f"/gigs/{gig.id}/questions", data={"ask-body": "Me?"})
    assert response.status_code == 422
    assert "your own gig" in text(response)
    assert count(Question) == 0


# --- editing and cancelling -----------------------------------------------------------

def test_the_poster_edits(client, poster, make_gig):
    gig = make_gig(poster=poster, title="Old title")
    page = get_page(client, f"/gigs/{gig.id}/edit")
    assert 'value="Old title"' in page and 'value="Acme Ltd"' in page
    data = gig_data(title="New title", budget_max="")
    del data["kind"]
    response = client.post(f"/gigs/{gig.id}/edit", data={**data, "title": ""})
    assert response.status_code == 422 and field_errors(text(response), "title")
    response = client.post(f"/gigs/{gig.id}/edit", data=data)
    assert response.status_code == 302
    db.session.refresh(gig)
    assert (gig.title, gig.budget_min_minor, gig.budget_max_minor) == ("New title", 500_00,
                                                                      500_00)
    assert db.session.get(ClientDetails, gig.id).client_name == "Clinic Co"


def test_others_cannot_edit_or_cancel(client, make_member, login, make_gig):
    gig = make_gig(title="Not yours")
    login(make_member())
    assert client.get(f"/gigs/{gig.id}/edit").status_code == 404
    assert client.post(f"/gigs/{gig.id}/edit", data=gig_data()).status_code == 404
    assert client.post(f"/gigs/{gig.id}/cancel", data={}).status_code == 404
    db.session.refresh(gig)
    assert (gig.title, gig.state) == ("Not yours", GigState.OPEN)


def test_the_poster_cancels_and_then_cannot_edit(client, poster, make_gig):
    gig = make_gig(poster=poster)
    assert "Cancel the gig" in get_page(client, f"/gigs/{gig.id}")
    response = client.post(f"/gigs/{gig.id}/cancel", data={"reason": "Client went away"})
    assert response.status_code == 302
    db.session.refresh(gig)
    assert gig.state == GigState.CANCELLED
    page = get_page(client, f"/gigs/{gig.id}")
    assert "Cancel the gig" not in page and "Client went away" in page
    response = client.get(f"/gigs/{gig.id}/edit")
    assert response.status_code == 302
    assert "can't be changed any more" in get_page(client, f"/gigs/{gig.id}")
    assert client.post(f"/gigs/{gig.id}/cancel", data={}).status_code == 302
    assert "Only an open gig can be cancelled" in get_page(client, f"/gigs/{gig.id}")


def test_an_admin_cancels_with_a_reason(client, make_member, login, make_gig):
    gig = make_gig()
    login(make_member(admin=True))
    client.post(f"/gigs/{gig.id}/cancel", data={})
    assert "Say why you are cancelling" in get_page(client, f"/gigs/{gig.id}")
    db.session.refresh(gig)
    assert gig.state == GigState.OPEN
    client.post(f"/gigs/{gig.id}/cancel", data={"reason": "Spam"})
    db.session.refresh(gig)
    assert (gig.state, gig.cancel_reason) == (GigState.CANCELLED, "Spam")


# --- attachments --------------------------------------------------------------------

def test_attachments_upload_download_and_remove(client, poster, make_member, login, make_gig):
    gig = make_gig(poster=poster)
    response = client.post(f"/gigs/{gig.id}/attachments",
                           data={"attachment-file": upload(b"MZ not a pdf", "brief.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and field_errors(text(response), "attachment-file")
    response = client.post(f"/gigs/{gig.id}/attachments",
                           data={"attachment-file": upload(PDF, "brief.pdf")},
                           content_type="multipart/form-data")
    assert response.status_code == 302
    attachment_id = db.session.scalar(select(GigAttachment.id))
    login(make_member())
    page = get_page(client, f"/gigs/{gig.id}")
    assert "brief.pdf" in page and "Attach a file" not in page
    response = client.get(f"/gigs/attachments/{attachment_id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # only the poster adds or removes files
    assert client.post(f"/gigs/{gig.id}/attachments",
                       data={"attachment-file": upload(PDF, "x.pdf")},
                       content_type="multipart/form-data").status_code == 404
    assert client.post(f"/gigs/attachments/{attachment_id}/delete").status_code == 404
    login(poster)
    assert client.post(f"/gigs/attachments/{attachment_id}/delete").status_code == 302
    assert count(GigAttachment) == 0
    assert client.get(f"/gigs/attachments/{attachment_id}").status_code == 404


def test_files_of_a_draft_are_private(client, poster, make_member, login, make_gig):
    from offload.gigs.services import add_gig_attachment

    draft = make_gig(poster=poster, publish=False)
    attachment = add_gig_attachment(draft, actor=poster, file_storage=upload(PDF, "a.pdf"))
    assert client.get(f"/gigs/attachments/{attachment.id}").status_code == 200
    login(make_member(admin=True))
    assert client.get(f"/gigs/attachments/{attachment.id}").status_code == 200
    login(make_member())
    assert client.get(f"/gigs/attachments/{attachment.id}").status_code == 404


# --- my gigs ------------------------------------------------------------------------

def test_my_gigs_by_state(app, client, poster, make_gig, monkeypatch):
    from offload.gigs.services import cancel_gig

    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    gigs = [make_gig(poster=poster, title=f"Mine {n}") for n in range(3)]
    cancel_gig(gigs[0], actor=poster)
    make_gig(title="Someone else's")
    page = get_page(client, "/my/gigs")
    assert "Mine 2" in page and "Mine 1" in page and "Someone else's" not in page
    older = re.search(r'href="([^"]*)">Older', page).group(1)
    assert "Mine 0" in get_page(client, older)
    page = get_page(client, "/my/gigs?state=cancelled")
    assert "Mine 0" in page and "Mine 1" not in page
    assert client.get("/my/gigs?state=bogus").status_code == 422


# --- a fixed number of queries ----------------------------------------------------------

def _queries(client, count_queries, url: str) -> int:
    with count_queries() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def _add_gigs(make_gig, poster, n: int) -> None:
    for i in range(n):
        make_gig(poster=poster, title=f"Query gig {i}", kind="task",
                 skill_names=["Python", f"Skill {i % 7}"])


def _add_questions(gig, askers, n: int) -> None:
    db.session.add_all(Question(gig_id=gig.id, asker_id=askers[i % len(askers)].id,
                                body=f"Question {i}?",
                                answer=f"Answer {i}" if i % 2 else None,
                                answered_at=utcnow() if i % 2 else None)
                       for i in range(n))
    db.session.commit()


def test_the_board_runs_a_fixed_number_of_queries(client, poster, make_member, make_gig,
                                                  count_queries):
    other = make_member()
    _add_gigs(make_gig, other, 10)
    counts = [_queries(client, count_queries, url) for url in ("/gigs", "/gigs?q=query")]
    _add_gigs(make_gig, other, 190)
    assert [_queries(client, count_queries, url) for url in ("/gigs", "/gigs?q=query")] == counts


def test_the_gig_page_runs_a_fixed_number_of_queries(client, poster, make_member, make_gig,
                                                     count_queries):
    gig = make_gig(poster=poster)
    askers = [make_member() for _ in range(5)]
    _add_questions(gig, askers, 10)
    before = _queries(client, count_queries, f"/gigs/{gig.id}")
    _add_questions(gig, askers + [make_member() for _ in range(20)], 190)
    assert _queries(client, count_queries, f"/gigs/{gig.id}") == before


def test_the_boards_cached_list_never_shows_a_stale_row(client, login, make_member, make_gig):
    # the board's rows are one cached fragment keyed by every row (and each row its own)
    from offload.gigs.services import edit_gig
    from offload.profiles.services import update_profile

    alice = make_member("alice", display_name="Alice")
    gig = make_gig(poster=alice, title="Old title", skill_names=["Python"])
    make_gig(poster=alice, title="Second gig")
    login(make_member())
    first = get_page(client, "/gigs")
    assert "Old title" in first
    assert without_signed_tokens(get_page(client, "/gigs")) == without_signed_tokens(first)
    row = db.session.get(Gig, gig.id)
    edit_gig(row, actor=alice, title="New title", description=row.description,
             skill_names=["Python"], category=row.category,
             budget_min_minor=row.budget_min_minor, budget_max_minor=row.budget_max_minor,
             deadline=row.deadline, client_details=None)
    page = get_page(client, "/gigs")
    assert "New title" in page and "Old title" not in page
    update_profile(actor=alice, display_name="Alice Renamed", headline="", bio="", location="")
    page = get_page(client, "/gigs")
    assert page.count(">Alice Renamed</a>") == 2 and ">Alice</a>" not in page
    make_gig(poster=alice, title="Newest gig")
    page = get_page(client, "/gigs")
    assert page.index("Newest gig") < page.index("Second gig") < page.index("New title")
