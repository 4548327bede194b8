"""Reads behind the profile pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import InvalidRequestError

from offload.core.db import db, utcnow
from offload.profiles import services
from offload.profiles.queries import (
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
