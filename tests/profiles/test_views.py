"""Profile pages through the test client, on the real database."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from offload.accounts.models import User
from offload.core.db import db, utcnow
from offload.core.uploads import stored_path
from offload.profiles import services
from offload.profiles.models import (
    Document,
    EducationEntry,
    PortfolioItem,
    Profile,
    Skill,
)
from tests.support.factories import PDF, count, upload
from tests.support.images import PNG


def text(response) -> str:
    return response.get_data(as_text=True)


def get_page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return text(response)


def hrefs(page: str) -> list[str]:
    """The href of every real link on the page (not text that merely looks like one)."""
    found: list[str] = []

    class Links(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.extend(value or "" for name, value in attrs if tag == "a" and name == "href")

    Links().feed(page)
    return found


def profile_data(**overrides) -> dict:
    return {"display_name": "Alice Liddell", "headline": "Backend developer",
            "location": "Berlin", "bio": "I build *APIs*.", "skills": "Python, PostgreSQL",
            **overrides}


@pytest.fixture
def alice(make_member, login):
    """A logged-in member."""
    user = make_member("alice", display_name="Alice")
    login(user)
    return user


def bobs_things(make_member):
    bob = make_member("bob")
    entry = services.add_education(actor=bob, school="MIT", start_year=2010)
    item = services.add_portfolio_item(actor=bob, title="Bob's shop", url="https://bob.example")
    doc = services.upload_document(actor=bob, kind="award", title="Award",
                                   file_storage=upload(PNG, "award.png"))
    return bob, entry, item, doc


# --- access -------------------------------------------------------------------------

def test_every_page_sends_anonymous_visitors_to_log_in(client, make_member):
    _, entry, item, doc = bobs_things(make_member)
    gets = ["/members", "/members/bob", "/profile/edit", f"/documents/{doc.id}"]
    posts = ["/profile/edit", "/profile/education", f"/profile/education/{entry.id}/delete",
             "/profile/portfolio", f"/profile/portfolio/{item.id}/delete", "/profile/documents",
             f"/profile/documents/{doc.id}/delete"]
    for url in gets:
        response = client.get(url)
        assert response.status_code == 302 and response.location.startswith("/login"), url
    for url in posts:
        response = client.post(url)
        assert response.status_code == 302 and response.location.startswith("/login"), url
    assert (count(EducationEntry), count(PortfolioItem), count(Document)) == (1, 1, 1)


def test_unknown_member_is_404(client, alice):
    assert client.get("/members/nobody").status_code == 404


def test_unconfirmed_members_view_and_edit_their_own_profile(client, make_member, login):
    newbie = make_member("newbie", confirmed=False)
    login(newbie)
    assert client.get("/members/newbie").status_code == 200
    assert client.get("/profile/edit").status_code == 200
    response = client.post("/profile/edit", data=profile_data(headline="Just arrived"))
    assert response.status_code == 302
    assert db.session.get(Profile, newbie.id).headline == "Just arrived"


# --- editing ------------------------------------------------------------------------

def test_edit_page_is_prefilled(client, alice):
    services.save_profile(actor=alice, display_name="Alice", headline="Data engineer",
                          bio="", location="Oslo", skill_names=["Python", "dbt"])
    page = get_page(client, "/profile/edit")
    assert 'value="Data engineer"' in page
    assert 'value="Oslo"' in page
    assert 'value="dbt, Python"' in page
    assert "Markdown is supported" in page
    assert re.search(r"PDF, PNG, JPG, up to \d+ MB\.", page)
    assert 'name="organization_name"' not in page  # individuals have no organization


def test_edit_page_lists_entries_with_remove_buttons(client, alice):
    entry = services.add_education(actor=alice, school="MIT", start_year=2010)
    item = services.add_portfolio_item(actor=alice, title="Shop", url="https://shop.example")
    doc = services.upload_document(actor=alice, kind="resume", title="CV",
                                   file_storage=upload(PDF, "cv.pdf"))
    page = get_page(client, "/profile/edit")
    for action in (f"/profile/education/{entry.id}/delete",
                   f"/profile/portfolio/{item.id}/delete",
                   f"/profile/documents/{doc.id}/delete"):
        assert f'action="{action}"' in page
    assert 'aria-label="Remove Shop"' in page


def test_editing_saves_and_shows(client, alice):
    response = client.post("/profile/edit", data=profile_data())
    assert response.status_code == 302
    assert response.location == "/members/alice"

    page = get_page(client, response.location)
    assert "Your profile is saved." in page
    assert "Alice Liddell" in page
    assert "Backend developer" in page
    assert "Berlin" in page
    assert "I build <em>APIs</em>." in page
    assert 'class="pill" href="/members?skill=python">Python</a>' in page
    assert 'href="/profile/edit">Edit profile</a>' in page
    assert db.session.get(User, alice.id).display_name == "Alice Liddell"


def test_bio_markdown_is_sanitized(client, alice):
    bio = ("**bold** <script>alert('x')</script> [click](javascript:alert(1)) "
           '<a href="javascript:alert(2)">raw</a> [ok](https://ok.example)')
    assert client.post("/profile/edit", data=profile_data(bio=bio)).status_code == 302

    page = get_page(client, "/members/alice")
    assert "<strong>bold</strong>" in page
    assert "<script>alert" not in page
    assert "&lt;script&gt;" in page  # shown as text, not run
    assert not [h for h in hrefs(page) if "javascript" in h.lower()]
    assert "https://ok.example" in hrefs(page)
    assert 'href="https://ok.example" rel="nofollow noopener noreferrer ugc"' in page


def test_too_long_headline_rerenders_with_message_and_changes_nothing(client, alice):
    response = client.post("/profile/edit", data=profile_data(display_name="Changed",
                                                              headline="x" * 121))
    assert response.status_code == 422
    page = text(response)
    assert "Headline can be at most 120 characters." in page
    assert 'value="Changed"' in page  # what was typed is kept
    assert 'aria-invalid="true"' in page
    assert db.session.get(Profile, alice.id) is None
    assert db.session.get(User, alice.id).display_name == "Alice"


def test_organization_without_a_name_rerenders_with_message(client, make_member, login):
    acme = make_member("acme", account_type="organization", organization_name="Acme Ltd")
    login(acme)
    assert 'value="Acme Ltd"' in get_page(client, "/profile/edit")

    response = client.post("/profile/edit", data=profile_data(organization_name=""))
    assert response.status_code == 422
    assert "Organization accounts need an organization name." in text(response)
    assert db.session.get(User, acme.id).organization_name == "Acme Ltd"
    assert db.session.get(Profile, acme.id) is None

    response = client.post("/profile/edit", data=profile_data(organization_name="Acme Inc"))
    assert response.status_code == 302
    assert "Acme Inc" in get_page(client, "/members/acme")


def test_a_bad_skill_is_shown_next_to_the_skills_field(client, alice):
    response = client.post("/profile/edit", data=profile_data(skills="Python, <b>bold</b>"))
    assert response.status_code == 422
    page = text(response)
    assert "isn’t a skill name" in page or "isn't a skill name" in html.unescape(page)
    assert 'id="skills-error"' in page
    assert 'value="Python, &lt;b&gt;bold&lt;/b&gt;"' in page
    assert count(Skill) == 0
    assert db.session.get(Profile, alice.id) is None


def test_skills_typed_by_two_members_are_one_shared_skill(client, alice, make_member):
    bob = make_member("bob")
    services.set_member_skills(actor=bob, skill_names=["python"])
    client.post("/profile/edit", data=profile_data(skills="PYTHON,  Flask , flask"))
    assert sorted(db.session.scalars(select(Skill.name))) == ["Flask", "python"]
    page = get_page(client, "/members/alice")
    assert ">Flask</a>" in page and ">python</a>" in page


# --- education, portfolio, documents ------------------------------------------------

def test_add_and_remove_education(client, alice):
    response = client.post("/profile/education", data={
        "education-school": "MIT", "education-degree": "BSc",
        "education-field_of_study": "Computer science", "education-start_year": "2010",
        "education-end_year": "2014"})
    assert response.status_code == 302
    assert response.location == "/profile/edit#education"
    assert "Education added." in get_page(client, "/profile/edit")
    assert "BSc, Computer science" in get_page(client, "/members/alice")

    entry = db.session.scalars(select(EducationEntry)).one()
    assert client.post(f"/profile/education/{entry.id}/delete").status_code == 302
    assert count(EducationEntry) == 0


def test_education_ending_before_it_starts_rerenders_with_message(client, alice):
    response = client.post("/profile/education", data={
        "education-school": "MIT", "education-start_year": "2014",
        "education-end_year": "2010"})
    assert response.status_code == 422
    page = text(response)
    assert "The end year can" in page and "before the start year." in page
    assert 'id="education-end_year-error"' in page
    assert 'value="MIT"' in page
    assert count(EducationEntry) == 0


def test_add_portfolio_item_shows_a_safe_link(client, alice):
    response = client.post("/profile/portfolio", data={
        "portfolio-title": "Shop", "portfolio-url": "https://shop.example/",
        "portfolio-description": "Payments with **Stripe** <script>x()</script>"})
    assert response.status_code == 302
    assert response.location == "/profile/edit#portfolio"
    page = get_page(client, "/members/alice")
    assert '<a href="https://shop.example/" rel="nofollow noopener">Shop</a>' in page
    assert "Payments with <strong>Stripe</strong>" in page
    assert "<script>x()" not in page


@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://example.com", "shop.example"])
def test_bad_portfolio_link_rerenders_with_message_and_saves_nothing(client, alice, url):
    response = client.post("/profile/portfolio", data={"portfolio-title": "Shop",
                                                       "portfolio-url": url})
    assert response.status_code == 422
    page = text(response)
    assert "Enter a full web address starting with http:// or https://." in page
    assert 'id="portfolio-url-error"' in page
    assert f'value="{url}"' in page
    assert count(PortfolioItem) == 0


def test_another_members_things_cannot_be_removed(client, alice, make_member):
    _, entry, item, doc = bobs_things(make_member)
    for url in (f"/profile/education/{entry.id}/delete", f"/profile/portfolio/{item.id}/delete",
                f"/profile/documents/{doc.id}/delete", "/profile/education/999999/delete"):
        assert client.post(url).status_code == 404, url
    assert (count(EducationEntry), count(PortfolioItem), count(Document)) == (1, 1, 1)
    assert stored_path(doc.stored_name).exists()


def test_admins_cannot_remove_members_things_from_these_pages(client, make_member, login):
    _, entry, item, doc = bobs_things(make_member)
    login(make_member("root", admin=True))
    assert client.post(f"/profile/portfolio/{item.id}/delete").status_code == 404
    assert count(PortfolioItem) == 1


def test_upload_download_and_remove_a_document(client, alice, make_member, login):
    response = client.post("/profile/documents", content_type="multipart/form-data", data={
        "document-kind": "certificate", "document-title": "AWS certificate",
        "document-file": upload(PNG, "aws cert.png")})
    assert response.status_code == 302
    assert response.location == "/profile/edit#documents"
    doc = db.session.scalars(select(Document)).one()
    assert (doc.user_id, doc.kind, doc.content_type) == (alice.id, "certificate", "image/png")
    page = get_page(client, "/members/alice")
    assert f'href="/documents/{doc.id}"' in page and "AWS certificate" in page
    assert "Certificate" in page

    client.post("/logout")
    login(make_member("bob"))  # another member downloads it
    assert client.post(f"/profile/documents/{doc.id}/delete").status_code == 404  # not bob's
    response = client.get(f"/documents/{doc.id}")
    assert response.status_code == 200
    assert response.data == PNG
    assert response.mimetype == "image/png"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "aws cert.png" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"

    client.post("/logout")
    login(alice)
    doc_id, path = doc.id, stored_path(doc.stored_name)
    assert client.post(f"/profile/documents/{doc_id}/delete").status_code == 302
    assert count(Document) == 0
    assert not path.exists()
    assert client.get(f"/documents/{doc_id}").status_code == 404


@pytest.mark.parametrize(("data", "filename", "message"), [
    (b"MZ\x90\x00 not really", "tool.exe", "Only these file types are accepted: PDF, PNG, JPG."),
    (b"just text pretending", "cv.pdf", "The file&#39;s content is not a PDF file."),
    (PNG, "big.png", "The file is larger than"),
])
def test_bad_uploads_rerender_with_message(app, client, alice, monkeypatch, data, filename,
                                           message):
    monkeypatch.setitem(app.config, "DOCUMENT_MAX_BYTES", len(PNG) - 1)
    response = client.post("/profile/documents", content_type="multipart/form-data", data={
        "document-kind": "resume", "document-title": "My CV",
        "document-file": upload(data, filename)})
    assert response.status_code == 422
    page = text(response)
    assert message in page
    assert 'id="document-file-error"' in page
    assert 'value="My CV"' in page
    assert count(Document) == 0


def test_upload_without_a_file_says_so(client, alice):
    response = client.post("/profile/documents", content_type="multipart/form-data",
                           data={"document-kind": "resume", "document-title": "CV"})
    assert response.status_code == 422
    assert "Choose a file to upload." in text(response)


def test_download_of_a_missing_file_is_404(client, alice):
    doc = services.upload_document(actor=alice, kind="resume", title="CV",
                                   file_storage=upload(PDF, "cv.pdf"))
    stored_path(doc.stored_name).unlink()
    assert client.get(f"/documents/{doc.id}").status_code == 404
    assert client.get("/documents/999999").status_code == 404


# --- the invite tree on profiles ----------------------------------------------------

def test_profile_shows_who_invited_whom(client, make_member, login):
    root = make_member("root", admin=True, display_name="Root Admin")
    alice = make_member("alice", inviter=root, display_name="Alice")
    make_member("zed", inviter=alice, display_name="Zed", created_at=utcnow() + timedelta(1))
    make_member("amy", inviter=alice, display_name="Amy")
    login(alice)

    page = get_page(client, "/members/alice")
    assert re.search(r"Invited by</dt>\s*<dd><a href=\"/members/root\">Root Admin</a>", page)
    assert page.index('href="/members/amy"') < page.index('href="/members/zed"')
    assert "Member since" in page
    assert 'href="/profile/edit">Edit profile</a>' in page

    root_page = get_page(client, "/members/root")
    assert "Founding member" in root_page
    assert '<a href="/members/alice">Alice</a>' in root_page
    assert 'href="/profile/edit">Edit profile</a>' not in root_page  # not alice's own


def fill_profile(member, n: int, make_member) -> None:
    services.set_member_skills(actor=member, skill_names=[f"skill {i}" for i in range(n)])
    for i in range(n):
        services.add_portfolio_item(actor=member, title=f"Work {i}",
                                    url=f"https://work{i}.example", description="*Nice*")
        services.add_education(actor=member, school=f"School {i}", start_year=2000 + i)
        db.session.add(Document(user_id=member.id, kind="award", title=f"Award {i}",
                                stored_name=f"{member.username}-{i}.png", original_name="a.png",
                                content_type="image/png", size_bytes=10))
        make_member(inviter=member)
    db.session.commit()


def test_profile_page_runs_a_fixed_number_of_queries(client, make_member, login,
                                                     count_queries):
    root = make_member("root", admin=True)
    small, big = make_member("small", inviter=root), make_member("big", inviter=root)
    fill_profile(small, 1, make_member)
    fill_profile(big, 20, make_member)
    login(make_member("viewer"))
    client.get("/members/small")  # warm up

    with count_queries() as small_queries:
        small_page = get_page(client, "/members/small")
    with count_queries() as big_queries:
        big_page = get_page(client, "/members/big")
    assert big_page.count("Work ") == 20 and small_page.count("Work ") == 1
    assert len(big_queries) == len(small_queries), big_queries
    assert len(small_queries) <= 12, small_queries  # (two for the ratings)


# --- the member list ----------------------------------------------------------------

def test_members_list_paginates_newest_first_among_equal_ratings(app, client, make_member,
                                                                  login):
    size = app.config["PAGE_SIZE"]
    for i in range(size + 2):
        make_member(f"m{i:02d}")
    login(make_member("viewer"))  # the newest

    first = get_page(client, "/members")
    assert first.count('<h2><a href="/members/') == size
    assert first.index('href="/members/viewer"') < first.index(f'href="/members/m{size + 1:02d}"')
    assert 'href="/members/m01"' not in first and 'href="/members/m00"' not in first
    older = html.unescape(re.search(r'href="(/members\?before=[^"]+)">More', first).group(1))

    second = get_page(client, older)
    assert second.count('<h2><a href="/members/') == 3
    for name in ("m02", "m01", "m00"):
        assert f'<h2><a href="/members/{name}">' in second
    assert 'href="/members/viewer">' not in second
    assert "Best rated</a>" in second and "More &rarr;" not in second


def test_members_list_filters_by_skill(client, make_member, login):
    alice, bob = make_member("alice"), make_member("bob")
    services.save_profile(actor=alice, display_name="Alice", headline="Loves Python", bio="",
                          location="", skill_names=["Python", "Go"])
    services.set_member_skills(actor=bob, skill_names=["Go"])
    login(make_member("viewer"))

    page = get_page(client, "/members?skill=python")
    assert "Members who list Python" in page
    assert '<h2><a href="/members/alice">' in page and "Loves Python" in page
    assert '<h2><a href="/members/bob">' not in page
    everyone = get_page(client, "/members")
    assert '<h2><a href="/members/bob">' in everyone and '<h2><a href="/members/alice">' in everyone
    assert "No member matches these filters" in get_page(client, "/members?skill=cobol")


# --- CSRF ---------------------------------------------------------------------------

def test_forms_need_the_csrf_token(app, client, alice, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    item = services.add_portfolio_item(actor=alice, title="Shop", url="https://shop.example")
    assert client.post("/profile/edit", data=profile_data()).status_code == 400
    assert db.session.get(Profile, alice.id) is None

    page = get_page(client, "/profile/edit")
    token = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"',
                      page).group(1)
    remove_form = page[page.index(f'action="/profile/portfolio/{item.id}/delete"'):]
    assert f'name="csrf_token" type="hidden" value="{token}"' in remove_form[:300]
    response = client.post("/profile/edit", data=profile_data(csrf_token=token))
    assert response.status_code == 302
    assert client.post(f"/profile/portfolio/{item.id}/delete").status_code == 400
    assert client.post(f"/profile/portfolio/{item.id}/delete",
                       data={"csrf_token": token}).status_code == 302
    assert count(PortfolioItem) == 0


def test_invitee_list_is_capped_with_the_full_count(client, make_member, login, monkeypatch):
    from offload.profiles import queries

    monkeypatch.setattr(queries, "INVITEES_SHOWN", 2)
    root = make_member("rooty", admin=True)
    for i in range(3):
        make_member(f"kid{i}", inviter=root)
    login(root)
    html = client.get("/members/rooty").get_data(as_text=True)
    assert "vouched for 3 members; the first 2 are listed" in html
    assert "Kid0" in html and "Kid1" in html and "Kid2" not in html
