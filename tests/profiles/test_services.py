"""Profile services on the real database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from offload.accounts.models import User
from offload.core.db import atomic, db
from offload.core.errors import Invalid, NotAllowed
from offload.core.uploads import stored_path
from offload.profiles import services
from offload.profiles.models import (
    Document,
    EducationEntry,
    MemberSkill,
    PortfolioItem,
    Profile,
    Skill,
)
from tests.support.factories import PDF, count, upload
from tests.support.images import PNG


def skill_slugs(user: User) -> set[str]:
    return set(db.session.scalars(select(Skill.slug).join(MemberSkill)
                                  .where(MemberSkill.user_id == user.id)))


def blank(**overrides) -> dict:
    return {"display_name": "Alice", "headline": "", "bio": "", "location": "", **overrides}


# --- profile ------------------------------------------------------------------------

def test_update_profile_creates_the_profile_then_updates_it(make_member):
    alice = make_member("alice")
    services.update_profile(actor=alice, display_name="  Alice   Liddell ",
                            headline="Backend developer", bio="**Hi**\n", location="Berlin")
    profile = db.session.get(Profile, alice.id)
    assert (db.session.get(User, alice.id).display_name, profile.headline, profile.bio,
            profile.location) == ("Alice Liddell", "Backend developer", "**Hi**", "Berlin")

    services.update_profile(actor=alice, **blank(location="Remote"))
    assert count(Profile) == 1
    assert db.session.get(Profile, alice.id).headline == ""
    assert db.session.get(Profile, alice.id).location == "Remote"


def test_too_long_headline_is_refused_and_nothing_changes(make_member):
    alice = make_member("alice", display_name="Alice")
    with pytest.raises(services.InvalidField) as refused:
        services.update_profile(actor=alice, **blank(display_name="Changed",
                                                     headline="x" * 121))
    assert refused.value.field == "headline"
    assert "at most 120 characters" in str(refused.value)
    assert db.session.get(Profile, alice.id) is None
    assert db.session.get(User, alice.id).display_name == "Alice"


def test_display_name_is_required(make_member):
    alice = make_member("alice", display_name="Alice")
    with pytest.raises(services.InvalidField, match="can't be empty"):
        services.update_profile(actor=alice, **blank(display_name="   "))
    assert db.session.get(User, alice.id).display_name == "Alice"


def test_organization_accounts_must_name_their_organization(make_member):
    acme = make_member("acme", account_type="organization", organization_name="Acme Ltd")
    with pytest.raises(Invalid, match="Organization accounts need an organization name"):
        services.update_profile(actor=acme, **blank(display_name="Acme", organization_name=" "))
    assert db.session.get(User, acme.id).organization_name == "Acme Ltd"
    assert db.session.get(Profile, acme.id) is None

    services.update_profile(actor=acme, **blank(display_name="Acme", organization_name="Acme Inc"))
    assert db.session.get(User, acme.id).organization_name == "Acme Inc"


def test_individuals_keep_no_organization_name(make_member):
    bob = make_member("bob")
    services.update_profile(actor=bob, **blank(organization_name="Sneaky Corp"))
    assert db.session.get(User, bob.id).organization_name is None


# --- skills -------------------------------------------------------------------------

def test_skills_are_created_once_case_insensitively_and_shared(make_member):
    alice, bob = make_member("alice"), make_member("bob")
    services.set_member_skills(actor=alice,
                               skill_names=["Python", " Machine   learning ", "python", ""])
    services.set_member_skills(actor=bob, skill_names=["PYTHON", "machine learning", "C++"])

    names = {s.slug: s.name for s in db.session.scalars(select(Skill))}
    assert names == {"python": "Python", "machine learning": "Machine learning", "c++": "C++"}
    assert db.session.scalar(select(Skill.created_by_id).where(Skill.slug == "c++")) == bob.id
    assert skill_slugs(alice) == {"python", "machine learning"}
    assert skill_slugs(bob) == {"python", "machine learning", "c++"}


def test_a_skill_created_concurrently_is_reused(make_member):
    alice, bob = make_member("alice"), make_member("bob")
    services.set_member_skills(actor=bob, skill_names=["Python"])
    # as if bob's insert landed between alice's lookup and her insert
    with atomic():
        skill = services._create_skill("python", "python", alice)
        assert skill.name == "Python"
    assert count(Skill) == 1


def test_set_member_skills_replaces_the_list_and_keeps_the_shared_skills(make_member):
    alice = make_member("alice")
    services.set_member_skills(actor=alice, skill_names=["Go", "Rust"])
    services.set_member_skills(actor=alice, skill_names=["rust", "SQL"])
    assert skill_slugs(alice) == {"rust", "sql"}
    assert {s for s in db.session.scalars(select(Skill.slug))} == {"go", "rust", "sql"}


def test_skill_names_may_use_common_punctuation(make_member):
    alice = make_member("alice")
    services.set_member_skills(actor=alice, skill_names=["C#", "Node.js", "Objective-C",
                                                         "Ruby on Rails", "Ätherwerk 2"])
    assert skill_slugs(alice) == {"c#", "node.js", "objective-c", "ruby on rails",
                                  "ätherwerk 2"}


@pytest.mark.parametrize(("names", "message"), [
    (["x" * 41], "at most 40 characters"),
    (["<script>"], "letters, digits"),
    (["..."], "letters, digits"),
    (["Go", "a_b"], "letters, digits"),
    ([f"skill {i}" for i in range(31)], "at most 30 skills"),
])
def test_bad_skill_lists_are_refused_and_nothing_changes(make_member, names, message):
    alice = make_member("alice")
    services.set_member_skills(actor=alice, skill_names=["Go"])
    with pytest.raises(services.InvalidField, match=message) as refused:
        services.set_member_skills(actor=alice, skill_names=names)
    assert refused.value.field == "skills"
    assert skill_slugs(alice) == {"go"}
    assert count(Skill) == 1


def test_thirty_skills_are_allowed(make_member):
    alice = make_member("alice")
    services.set_member_skills(actor=alice, skill_names=[f"skill {i}" for i in range(30)])
    assert len(skill_slugs(alice)) == 30


def test_save_profile_saves_neither_part_when_one_is_invalid(make_member):
    alice = make_member("alice", display_name="Alice")
    with pytest.raises(Invalid):
        services.save_profile(actor=alice, **blank(display_name="New", headline="Hello"),
                              skill_names=["Python", "<b>"])
    assert db.session.get(Profile, alice.id) is None
    assert db.session.get(User, alice.id).display_name == "Alice"
    assert count(Skill) == 0

    services.save_profile(actor=alice, **blank(headline="Hello"), skill_names=["Python"])
    assert db.session.get(Profile, alice.id).headline == "Hello"
    assert skill_slugs(alice) == {"python"}


# --- education ----------------------------------------------------------------------

def test_add_education(make_member):
    alice = make_member("alice")
    entry = services.add_education(actor=alice, school=" MIT ", degree="BSc",
                                   field_of_study="Computer science", start_year=2010,
                                   end_year=2014)
    assert (entry.user_id, entry.school, entry.end_year) == (alice.id, "MIT", 2014)
    services.add_education(actor=alice, school="ETH", start_year=2020)
    assert count(EducationEntry) == 2


@pytest.mark.parametrize(("years", "field", "message"), [
    ((2015, 2014), "end_year", "can't be before the start year"),
    ((1200, None), "start_year", "Enter a year between"),
    ((2010, 3000), "end_year", "Enter a year between"),
])
def test_education_years_are_checked(make_member, years, field, message):
    alice = make_member("alice")
    with pytest.raises(services.InvalidField, match=message) as refused:
        services.add_education(actor=alice, school="MIT", start_year=years[0], end_year=years[1])
    assert refused.value.field == field
    assert count(EducationEntry) == 0


def test_only_the_owner_or_an_admin_removes_education(make_member):
    alice, mallory, admin = make_member("alice"), make_member("mallory"), make_member(admin=True)
    entry = services.add_education(actor=alice, school="MIT", start_year=2010)
    with pytest.raises(NotAllowed):
        services.remove_education(entry, actor=mallory)
    assert count(EducationEntry) == 1

    services.remove_education(entry, actor=admin)
    assert count(EducationEntry) == 0


# --- portfolio ----------------------------------------------------------------------

def test_add_portfolio_item(make_member):
    alice = make_member("alice")
    item = services.add_portfolio_item(actor=alice, title="Shop", url=" https://shop.example/a ",
                                       description="Built **everything**")
    assert (item.title, item.url, item.description) == (
        "Shop", "https://shop.example/a", "Built **everything**")


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<b>hi</b>",
    "ftp://example.com/file", "example.com", "https://", "http://exa mple.com",
    "http://[::1", "",
])
def test_portfolio_links_must_be_web_addresses(make_member, url):
    alice = make_member("alice")
    with pytest.raises(services.InvalidField) as refused:
        services.add_portfolio_item(actor=alice, title="Work", url=url)
    assert refused.value.field == "url"
    assert count(PortfolioItem) == 0


def test_only_the_owner_or_an_admin_removes_a_portfolio_item(make_member):
    alice, mallory = make_member("alice"), make_member("mallory")
    item = services.add_portfolio_item(actor=alice, title="Shop", url="https://shop.example")
    with pytest.raises(NotAllowed):
        services.remove_portfolio_item(item, actor=mallory)
    assert count(PortfolioItem) == 1

    services.remove_portfolio_item(item, actor=alice)
    assert count(PortfolioItem) == 0


# --- documents ----------------------------------------------------------------------

def upload_folder(app) -> set[str]:
    folder = Path(app.config["UPLOAD_FOLDER"])
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


@pytest.mark.parametrize(("data", "filename", "content_type"), [
    (PNG, "Award.PNG", "image/png"), (PDF, "cv.pdf", "application/pdf")])
def test_upload_document_stores_the_file_under_a_generated_name(make_member, data, filename,
                                                                content_type):
    alice = make_member("alice")
    doc = services.upload_document(actor=alice, kind="award", title="Best newcomer",
                                   file_storage=upload(data, filename))
    assert (doc.user_id, doc.kind, doc.original_name, doc.content_type, doc.size_bytes) == (
        alice.id, "award", filename, content_type, len(data))
    assert doc.stored_name != filename
    assert stored_path(doc.stored_name).read_bytes() == data


@pytest.mark.parametrize(("data", "filename", "message"), [
    (b"hello", "notes.txt", "Only these file types are accepted"),
    (PNG, "picture.gif", "Only these file types are accepted"),
    (PNG, "no-extension", "Only these file types are accepted"),
    (b"just some text, not a PDF", "cv.pdf", "content is not a PDF"),
    (PDF, "fake.png", "content is not a PNG"),
    (b"", "empty.pdf", "empty"),
])
def test_upload_document_refuses_bad_files(app, make_member, data, filename, message):
    alice = make_member("alice")
    before = upload_folder(app)
    with pytest.raises(services.InvalidField, match=message) as refused:
        services.upload_document(actor=alice, kind="certificate", title="Cert",
                                 file_storage=upload(data, filename))
    assert refused.value.field == "file"
    assert count(Document) == 0
    assert upload_folder(app) == before


def test_upload_document_refuses_oversize_files(app, make_member, monkeypatch):
    monkeypatch.setitem(app.config, "DOCUMENT_MAX_BYTES", len(PNG) - 1)
    alice = make_member("alice")
    with pytest.raises(services.InvalidField, match="larger than"):
        services.upload_document(actor=alice, kind="other", title="Big",
                                 file_storage=upload(PNG, "big.png"))
    assert count(Document) == 0


def test_upload_document_checks_kind_and_title(make_member):
    alice = make_member("alice")
    with pytest.raises(services.InvalidField) as refused:
        services.upload_document(actor=alice, kind="diploma", title="Cert",
                                 file_storage=upload(PNG, "c.png"))
    assert refused.value.field == "kind"
    with pytest.raises(services.InvalidField) as refused:
        services.upload_document(actor=alice, kind="award", title=" ",
                                 file_storage=upload(PNG, "c.png"))
    assert refused.value.field == "title"
    assert count(Document) == 0


def test_upload_document_removes_the_file_when_the_transaction_fails(app, make_member,
                                                                     monkeypatch):
    alice = make_member("alice")
    before = upload_folder(app)

    def broken_document(**_):
        raise RuntimeError("database trouble")

    monkeypatch.setattr(services, "Document", broken_document)
    with pytest.raises(RuntimeError):
        services.upload_document(actor=alice, kind="award", title="Cert",
                                 file_storage=upload(PNG, "c.png"))
    assert upload_folder(app) == before


def test_remove_document_deletes_row_and_file_for_the_owner_only(make_member):
    alice, mallory = make_member("alice"), make_member("mallory")
    doc = services.upload_document(actor=alice, kind="resume", title="CV",
                                   file_storage=upload(PDF, "cv.pdf"))
    path = stored_path(doc.stored_name)
    with pytest.raises(NotAllowed):
        services.remove_document(doc, actor=mallory)
    assert path.exists() and count(Document) == 1

    services.remove_document(doc, actor=alice)
    assert not path.exists()
    assert count(Document) == 0
