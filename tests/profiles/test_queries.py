"""Reads behind the profile pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import InvalidRequestError

from offload.core.db import db, utcnow
from offload.profiles import services
from offload.profiles.queries import (
    members_page,
    popular_skills,
    profile_for,
    skill_named,
    skills_by_member,
)


def test_profile_for_an_unknown_username_is_none(make_member):
    make_member("alice")
    assert profile_for("nobody") is None


def test_profile_for_finds_the_member_in_any_case_with_everything_loaded(make_member):
    root = make_member("root", admin=True)
    alice = make_member("alice", inviter=root)
    later = make_member("zed", inviter=alice, created_at=utcnow() + timedelta(days=1))
    sooner = make_member("amy", inviter=alice, created_at=utcnow())
    services.save_profile(actor=alice, display_name="Alice", headline="Dev", bio="", location="",
                          skill_names=["SQL", "Go"])
    services.add_education(actor=alice, school="Old school", start_year=2001)
    services.add_education(actor=alice, school="New school", start_year=2010)
    invitee_ids = [sooner.id, later.id]
    db.session.expunge_all()  # nothing may come from the identity map

    page = profile_for("ALICE")
    assert page.user.username == "alice"
    assert page.user.invited_by.username == "root"  # eager-loaded, no lazy load
    assert page.profile.headline == "Dev"
    assert [s.name for s in page.skills] == ["Go", "SQL"]
    assert [e.school for e in page.education] == ["New school", "Old school"]
    assert [m.id for m in page.invitees] == invitee_ids  # by join date
    with pytest.raises(InvalidRequestError):  # lazy="raise": unloaded relations fail loudly
        _ = page.invitees[0].invited_by


def test_profile_for_a_member_who_never_saved_has_no_profile_row(make_member):
    make_member("alice")
    page = profile_for("alice")
    assert page.profile is None
    assert page.user.invited_by is None
    assert (page.skills, page.education, page.portfolio, page.documents, page.invitees) == (
        [], [], [], [], [])


def test_members_page_is_newest_first_and_pages_with_a_cursor(app, make_member, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    start = utcnow()
    for i in range(5):
        make_member(f"m{i}", created_at=start + timedelta(minutes=i))

    first = members_page(None)
    assert [c.user.username for c in first.items] == ["m4", "m3"]
    assert first.is_first and first.next_cursor
    second = members_page(first.next_cursor)
    assert [c.user.username for c in second.items] == ["m2", "m1"]
    last = members_page(second.next_cursor)
    assert [c.user.username for c in last.items] == ["m0"]
    assert last.next_cursor is None and not last.is_first


def test_members_page_filters_by_skill_name_or_slug(make_member):
    alice, bob, carol = make_member("alice"), make_member("bob"), make_member("carol")
    services.save_profile(actor=alice, display_name="Alice", headline="Pythonista", bio="",
                          location="", skill_names=["Python", "Go"])
    services.set_member_skills(actor=bob, skill_names=["Go"])
    services.set_member_skills(actor=carol, skill_names=["python"])

    page = members_page(None, skill=" PYTHON ")
    assert {c.user.username for c in page.items} == {"alice", "carol"}
    card = next(c for c in page.items if c.user.username == "alice")
    assert card.profile.headline == "Pythonista"
    assert [s.name for s in card.skills] == ["Go", "Python"]  # all their skills, not just the match
    assert members_page(None, skill="cobol").items == []
    assert {c.user.username for c in members_page(None).items} == {"alice", "bob", "carol"}


def test_skill_lookups(make_member):
    alice, bob = make_member("alice"), make_member("bob")
    services.set_member_skills(actor=alice, skill_names=["Python", "Rust"])
    services.set_member_skills(actor=bob, skill_names=["python"])

    assert skill_named("  pyTHON ").name == "Python"
    assert skill_named("cobol") is None
    assert [(s.name, n) for s, n in popular_skills()] == [("Python", 2), ("Rust", 1)]
    assert {k: [s.name for s in v] for k, v in skills_by_member([alice.id, bob.id]).items()} == {
        alice.id: ["Python", "Rust"], bob.id: ["Python"]}
    assert skills_by_member([]) == {}
