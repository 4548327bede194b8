"""The reviews section of the project page, the reply form, a member's reviews and the
rating on the profile."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from offload.core.db import db, utcnow
from offload.reviews.models import Review, ReviewReply
from offload.reviews.services import publish_due_reviews, submit_review
from tests.support.factories import all_skills, skill_ids


def page(client, project) -> str:
    response = client.get(f"/projects/{project.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def refused(html: str) -> str:
    """The project page's region that says why the action was refused."""
    match = re.search(r'<div[^>]*id="refused"[^>]*role="alert".*?</div>', html, re.S)
    assert match, "no page-level error region"
    return match.group(0)


def section(html: str) -> str:
    """The reviews section of a project page."""
    match = re.search(r'<section[^>]*id="reviews".*?</section>', html, re.S)
    assert match, "no reviews section"
    return match.group(0)


def review_form(project, stars="5", body="Lovely work, would hire again.", skills=None):
    data = {"stars": stars, "body": body}
    for skill_id, n in (all_skills(project) if skills is None else skills).items():
        data[f"skill-{skill_id}"] = str(n)
    return data


def review_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Review))


def test_no_reviews_section_before_completion(client, login, start_project, referrer):
    project = start_project()
    login(referrer)
    assert 'id="reviews"' not in page(client, project)
    login(referrer)
    response = client.post(f"/projects/{project.id}/review", data=review_form(project))
    assert response.status_code == 422
    assert "Reviews open when the project is completed." in response.get_data(as_text=True)
    assert review_count() == 0


def test_the_forms_each_side_gets(client, login, completed, referrer, performer):
    project = completed()
    ids = skill_ids(project)
    login(referrer)
    html = section(page(client, project))
    assert 'name="stars"' in html and 'name="body"' in html
    assert all(f'name="skill-{i}"' in html for i in ids.values())
    login(performer)
    html = section(page(client, project))
    assert 'name="stars"' in html and "skill-" not in html


def test_hidden_until_both_are_in(client, login, completed, referrer, performer):
    project = completed()
    login(referrer)
    response = client.post(f"/projects/{project.id}/review",
                           data=review_form(project, body="Rita says: superb."))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/projects/{project.id}#reviews")
    mine = section(page(client, project))
    assert "Rita says: superb." in mine and "not published yet" in mine
    assert 'name="stars"' not in mine  # no second form

    login(performer)
    theirs = section(page(client, project))
    assert "Rita says: superb." not in theirs
    assert 'name="stars"' in theirs

    response = client.post(f"/projects/{project.id}/review",
                           data={"stars": "4", "body": "Pete says: clear brief."})
    assert response.status_code == 302
    for member in (performer, referrer):
        login(member)
        html = section(page(client, project))
        assert "Rita says: superb." in html and "Pete says: clear brief." in html
        assert "not published yet" not in html


def test_the_job_publishes_one_side_and_says_the_other_wrote_none(
        client, login, completed, referrer, performer):
    project = completed()
    login(performer)
    client.post(f"/projects/{project.id}/review",
                data={"stars": "3", "body": "Pete says: fine."})
    login(referrer)
    assert "Pete says: fine." not in section(page(client, project))
    publish_due_reviews(now=utcnow() + timedelta(days=15))
    assert "Pete says: fine." in section(page(client, project))
    login(performer)
    html = section(page(client, project))
    assert "Pete says: fine." in html and "didn" in html and "t write a review" in html


def test_errors_keep_the_chosen_stars_and_the_text(client, login, completed, referrer):
    project = completed()
    ids = skill_ids(project)
    login(referrer)
    # a skill left unrated
    response = client.post(f"/projects/{project.id}/review", data=review_form(
        project, stars="4", body="Typed with care.", skills={ids["Python"]: 2}))
    assert response.status_code == 422
    assert "Rate each skill of the gig" in refused(response.get_data(as_text=True))
    html = section(response.get_data(as_text=True))
    assert re.search(r'name="stars" value="4" checked', html)
    assert re.search(rf'name="skill-{ids["Python"]}" value="2" checked', html)
    assert not re.search(rf'name="skill-{ids["SQL"]}" value="\d" checked', html)
    assert "Typed with care." in html
    # no overall stars
    response = client.post(f"/projects/{project.id}/review", data=review_form(
        project, stars="", body="Typed again."))
    assert response.status_code == 422
    assert "Choose from 1 to 5 stars." in refused(response.get_data(as_text=True))
    html = section(response.get_data(as_text=True))
    assert "Typed again." in html
    assert not re.search(r'name="stars" value="\d" checked', html)
    # no text
    response = client.post(f"/projects/{project.id}/review",
                           data=review_form(project, stars="2", body=""))
    assert response.status_code == 422
    html = section(response.get_data(as_text=True))
    assert "Write what it was like to work together." in html
    assert re.search(r'name="stars" value="2" checked', html)
    assert review_count() == 0


def test_a_second_review_from_the_page_is_refused(client, login, completed, performer):
    project = completed()
    login(performer)
    assert client.post(f"/projects/{project.id}/review",
                       data={"stars": "5", "body": "First."}).status_code == 302
    response = client.post(f"/projects/{project.id}/review",  # a second tab, say
                           data={"stars": "1", "body": "Second."})
    assert response.status_code == 422
    # the form is gone from the page (the review is in): the top of the page says why
    assert "You have reviewed this project already." in refused(response.get_data(
        as_text=True))
    assert 'name="body"' not in section(response.get_data(as_text=True))
    assert review_count() == 1


def test_a_third_member_gets_404(client, login, completed, outsider):
    project = completed()
    login(outsider)
    assert client.post(f"/projects/{project.id}/review",
                       data=review_form(project)).status_code == 404
    assert client.post("/projects/999999/review", data=review_form(project)).status_code == 404
    client.post("/logout")
    assert client.post(f"/projects/{project.id}/review",
                       data=review_form(project)).status_code == 404
    assert review_count() == 0


def test_the_reply_shows_on_both_pages(client, login, completed, referrer, performer, outsider):
    project = completed()
    review_id = submit_review(project, actor=referrer, stars=5, body="Superb.",
                              skill_stars=all_skills(project)).id
    # hidden: nobody replies
    login(performer)
    assert client.post(f"/reviews/{review_id}/reply",
                       data={f"reply-{review_id}-body": "Too early."}).status_code == 404
    submit_review(db.session.get(type(project), project.id), actor=performer, stars=4,
                  body="Good brief.")
    html = section(page(client, project))
    assert f'name="reply-{review_id}-body"' in html
    login(referrer)
    assert f'name="reply-{review_id}-body"' not in section(page(client, project))
    login(outsider)
    client.post(f"/reviews/{review_id}/reply", data={f"reply-{review_id}-body": "Not me."})
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ReviewReply)) == 0

    login(performer)
    response = client.post(f"/reviews/{review_id}/reply",
                           data={f"reply-{review_id}-body": "Thank you, Rita!"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/members/performer/reviews#review-{review_id}")
    html = section(page(client, project))
    assert "Thank you, Rita!" in html and f'name="reply-{review_id}-body"' not in html
    listing = client.get("/members/performer/reviews").get_data(as_text=True)
    assert "Thank you, Rita!" in listing and "Superb." in listing
    login(referrer)
    assert "Thank you, Rita!" in section(page(client, project))
    client.post(f"/reviews/{review_id}/reply", data={f"reply-{review_id}-body": "Again"})
    db.session.rollback()
    assert [r.body for r in db.session.scalars(select(ReviewReply))] == ["Thank you, Rita!"]


def test_the_profile_shows_the_rating_and_skill_stars(client, login, completed, referrer,
                                                      performer, outsider):
    login(outsider)
    html = client.get("/members/performer").get_data(as_text=True)
    assert "no reviews yet" in html
    project = completed(skill_names=["Python", "SQL"])
    ids = skill_ids(project)
    submit_review(project, actor=referrer, stars=5, body="Superb.",
                  skill_stars={ids["Python"]: 5, ids["SQL"]: 1})
    html = client.get("/members/performer").get_data(as_text=True)
    assert "no reviews yet" in html  # hidden: not counted
    submit_review(db.session.get(type(project), project.id), actor=performer, stars=4,
                  body="Good brief.")
    response = client.get("/members/performer")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'aria-label="4.2 of 5"' in html and "<strong>4.2</strong>" in html  # 25/6
    assert "(1 review)" in html
    assert "imagined reviews of 4.0 stars" in html
    listing = client.get("/members/performer/reviews").get_data(as_text=True)
    assert "Superb." in listing and "Good brief." not in listing
    assert "4.2" in listing


def test_the_profile_shows_stars_for_the_members_skills(client, login, completed, referrer,
                                                       performer, outsider):
    from offload.profiles.models import Skill  # noqa: PLC0415

    project = completed(skill_names=["Python", "SQL"])
    ids = skill_ids(project)
    submit_review(project, actor=referrer, stars=5, body="Superb.",
                  skill_stars={ids["Python"]: 5, ids["SQL"]: 2})
    submit_review(db.session.get(type(project), project.id), actor=performer, stars=4,
                  body="Good brief.")
    _give_profile_skills(performer, [db.session.get(Skill, ids["Python"]),
                                     db.session.get(Skill, ids["SQL"])])
    login(outsider)
    html = client.get("/members/performer").get_data(as_text=True)
    assert 'aria-label="4.2 of 5 from 1 reviews"' in html  # Python: 25/6
    assert 'aria-label="3.7 of 5 from 1 reviews"' in html  # SQL: 22/6


def _give_profile_skills(member, skills):
    from offload.profiles.models import MemberSkill  # noqa: PLC0415

    for skill in skills:
        db.session.add(MemberSkill(user_id=member.id, skill_id=skill.id))
    db.session.commit()


def test_member_reviews_paginate_with_a_fixed_number_of_queries(
        app, client, login, completed, referrer, performer, outsider, count_queries,
        monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    bodies = []
    for i in range(5):
        project = completed()
        body = f"Review number {i}."
        review_id = submit_review(project, actor=referrer, stars=1 + i, body=body,
                                  skill_stars=all_skills(project)).id
        publish_due_reviews(now=utcnow() + timedelta(days=15, minutes=i))
        bodies.append(body)
        if i % 2:
            from offload.reviews.services import reply_to_review  # noqa: PLC0415

            reply_to_review(db.session.get(Review, review_id), actor=performer,
                            body=f"Reply {i}.")
    login(outsider)
    seen, queries, url = [], [], "/members/performer/reviews"
    while url:
        with count_queries() as statements:
            response = client.get(url)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        queries.append(len(statements))
        seen.append(sorted((b for b in bodies if b in html), key=html.index))
        older = re.search(r'href="([^"]*before=[^"]*)">Older', html)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert seen == [[bodies[4], bodies[3]], [bodies[2], bodies[1]], [bodies[0]]]
    assert len(set(queries)) == 1, queries
    assert client.get("/members/nobody/reviews").status_code == 404


@pytest.mark.parametrize("raw", ["²", "99999999999999999999", "-1", ""])
def test_stars_or_a_skill_that_are_no_number_are_refused_on_the_form(
        client, login, completed, referrer, raw):
    """``str.isdigit`` is true for "²" (int() raises) and a huge number overflows: a 500."""
    project = completed()
    login(referrer)
    response = client.post(f"/projects/{project.id}/review",
                           data=review_form(project, stars=raw, body="Kept as typed."))
    assert response.status_code == 422
    assert "Choose from 1 to 5 stars." in response.get_data(as_text=True)
    assert "Kept as typed." in response.get_data(as_text=True)
    data = {**review_form(project), f"skill-{raw}": "5"}
    response = client.post(f"/projects/{project.id}/review", data=data)
    assert response.status_code == 302  # a skill that can't be one is no skill of the gig
    assert review_count() == 1
