"""An alert finds what the board shows: for generated gigs and generated board searches,
``alert_matches`` over a window covering every gig gives, in the same order, what walking
every page of the board gives; and a saved alert mails the board's first page."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from sqlalchemy import delete, update

from offload.accounts.models import User
from offload.alerts.services import filters_of, save_alert, send_instant_alerts
from offload.core.db import atomic, db, utcnow
from offload.gigs.board import alert_matches, board_page
from offload.gigs.filters import BoardFilters, BoardSort
from offload.gigs.models import ClientDetails, Gig, GigSkill
from offload.gigs.services import ClientInfo, cancel_gig, post_gig
from offload.notifications.models import OutboxEmail

WORDS = ["alpha", "bravo", "delta", "kilo", "lima", "oscar", "python", "tango"]
SKILLS = ["Python", "Rust", "Elm"]
CATEGORIES = ["web", "data", "backend"]

gig_specs = st.lists(st.fixed_dictionaries({
    "kind": st.sampled_from(["referral", "task"]),
    "category": st.sampled_from(CATEGORIES),
    "state": st.sampled_from(["open", "open", "open", "open", "open", "draft", "cancelled"]),
    "budget_min": st.sampled_from([100_00, 200_00, 300_00]),
    "extra": st.sampled_from([0, 0, 100_00, 250_00]),
    "deadline_in": st.sampled_from([-1, 0, 1, 2, 3, 5]),  # -1 and 0 set after posting
    "published_ago": st.sampled_from([0, 0, 0, 1, 2]),  # minutes; equal times happen
    "skills": st.sets(st.sampled_from(SKILLS), min_size=1, max_size=2),
    "title": st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
    "description": st.lists(st.sampled_from(WORDS), min_size=1, max_size=4),
}), min_size=10, max_size=25)

def sometimes(values: list, nothing=None, weight: int = 2):
    """One of ``values``, or ``nothing`` ``weight`` times as often as any one of them:
    searches narrow by a few filters at a time, so that they still find gigs."""
    return st.sampled_from([nothing] * weight * len(values) + values)


board_filters = st.fixed_dictionaries({
    "q": st.one_of(st.just(""), st.just(""), st.sampled_from(WORDS),
                   st.sampled_from([w[:3] + "*" for w in WORDS] + ["pyth*", "el*"]),
                   st.lists(st.sampled_from(WORDS + [s.lower() for s in SKILLS]),
                            min_size=2, max_size=2).map(" ".join)),
    "kind": sometimes(["referral", "task"], weight=1),
    "category": sometimes(CATEGORIES),
    "skills": st.one_of(st.just(()), st.just(()), st.sets(
        st.sampled_from([s.lower() for s in SKILLS]), min_size=1, max_size=2).map(tuple)),
    "budget_min_minor": sometimes([150_00, 300_00]),
    "budget_max_minor": sometimes([150_00, 300_00, 500_00]),
    "due_by_in": sometimes([0, 2, 4]),
    "sort": st.sampled_from(list(BoardSort)),
})


def board_ids(filters: BoardFilters, size: int, today) -> list[int]:
    """Every gig the board shows for ``filters``, walking its pages."""
    seen, cursor = [], None
    while True:
        page = board_page(filters, cursor, size=size, today=today)
        seen += [g.id for g in page.items]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def post_gigs(poster: User, specs: list[dict]) -> list[int]:
    """The gigs of ``specs``, posted through the real service in one transaction, then
    moved to their state, deadline and publication time."""
    today, base = utcnow().date(), utcnow()
    ids = []
    with atomic():
        for spec in specs:
            kind = spec["kind"]
            gig = post_gig(
                actor=poster, kind=kind, title=" ".join(spec["title"]),
                description=" ".join(spec["description"]), skill_names=sorted(spec["skills"]),
                category=spec["category"], budget_min_minor=spec["budget_min"],
                budget_max_minor=spec["budget_min"] + spec["extra"],
                deadline=today + timedelta(days=max(1, spec["deadline_in"])),
                client_details=(ClientInfo("Acme", "cto@acme.example")
                                if kind == "referral" else None),
                publish=spec["state"] != "draft")
            if spec["state"] == "cancelled":
                cancel_gig(gig, actor=poster)
            values = {}
            if spec["deadline_in"] < 1:
                values["deadline"] = today + timedelta(days=spec["deadline_in"])
            if spec["state"] != "draft":
                values["published_at"] = base - timedelta(minutes=spec["published_ago"])
            if values:
                db.session.execute(update(Gig).where(Gig.id == gig.id).values(**values))
            ids.append(gig.id)
    return ids


def remove_gigs() -> None:
    with atomic():
        db.session.execute(delete(ClientDetails))
        db.session.execute(delete(GigSkill))
        db.session.execute(delete(Gig))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(specs=gig_specs, f=board_filters, size=st.integers(1, 6))
def test_an_alert_matches_what_every_page_of_the_board_shows(make_member, specs, f, size):
    remove_gigs()  # each example starts from no gigs (members and skills stay)
    poster = db.session.get(User, _member(make_member, "poster"))
    _member(make_member, "owner")  # the alert's member posts nothing
    before = utcnow() - timedelta(minutes=5)
    post_gigs(poster, specs)
    after = utcnow() + timedelta(seconds=1)
    today = utcnow().date()
    filters = BoardFilters(
        q=f["q"], kind=f["kind"], category=f["category"], skills=f["skills"],
        budget_min_minor=f["budget_min_minor"], budget_max_minor=f["budget_max_minor"],
        due_by=None if f["due_by_in"] is None else today + timedelta(days=f["due_by_in"]),
        sort=f["sort"])
    matched = [g.id for g in alert_matches(filters, published_after=before,
                                           published_until=after, limit=1000, today=today,
                                           not_posted_by=0)]
    shown = board_ids(filters, size, today)
    note(f"board shows {shown}")
    assert matched == shown


def _member(make_member, username: str) -> int:
    found = db.session.query(User.id).filter_by(username=username).scalar()
    return found or make_member(username).id


# --- a saved alert, end to end -----------------------------------------------------------

def test_a_saved_alert_mails_the_boards_first_page_of_its_search(make_member, outbox):
    alice, bob = make_member("alice"), make_member("bob")
    searches = [{"q": "pyth*", "sort": "budget"}, {"kind": "task", "sort": "deadline"},
                {"skills": "Rust,Elm", "budget_min": "250"},
                {"q": "alpha", "category": "data", "due_by": str(utcnow().date()
                                                                + timedelta(days=3))}]
    alerts = [save_alert(actor=alice, query_args=args, frequency="instant",
                         name=f"Search {n}") for n, args in enumerate(searches)]
    specs = [
        {"kind": kind, "category": category, "state": "open", "budget_min": budget,
         "extra": extra, "deadline_in": days, "published_ago": 0, "skills": skills,
         "title": title, "description": ["some", "work"]}
        for kind, category, budget, extra, days, skills, title in [
            ("task", "data", 100_00, 0, 2, {"Python"}, ["python", "alpha"]),
            ("referral", "web", 300_00, 100_00, 5, {"Rust"}, ["pythonic", "bravo"]),
            ("task", "backend", 200_00, 250_00, 1, {"Elm"}, ["alpha"]),
            ("referral", "data", 100_00, 0, 3, {"Rust", "Elm"}, ["alpha", "kilo"]),
            ("task", "web", 300_00, 0, 4, {"Python", "Rust"}, ["lima"]),
            ("referral", "data", 200_00, 0, 2, {"Python"}, ["alpha", "python"]),
            ("task", "data", 100_00, 100_00, 3, {"Elm"}, ["oscar"]),
        ]]
    post_gigs(bob, specs)
    assert send_instant_alerts(now=utcnow() + timedelta(seconds=1)) == len(alerts)
    mails = {m.subject: m for m in outbox.to(alice.email) if m.template == "keyword_alert"}
    for alert in alerts:
        page = board_page(filters_of(alert))
        assert page.items and page.next_cursor is None  # the first page fits one message
        mail = next(m for subject, m in mails.items() if f"“{alert.name}”" in subject)
        links = [w for w in mail.text_body.split()
                 if w.startswith("https://offload.example/gigs/")]
        assert links == [f"https://offload.example/gigs/{g.id}" for g in page.items], alert
        assert "More gigs matched" not in mail.text_body
    assert db.session.query(OutboxEmail).count() == len(alerts)
