"""Reviews: double-blind publication in every order, the ratings they add up to,
refusals and replies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from offload.accounts.models import User
from offload.core.db import db, utcnow
from offload.core.errors import Conflict, InvalidField, NotAllowed
from offload.notifications.models import Notification
from offload.profiles.models import Skill
from offload.projects.models import Project
from offload.reviews.models import (
    MemberRating,
    MemberSkillRating,
    Review,
    ReviewReply,
    ReviewSkillStars,
)
from offload.reviews.queries import Rating, member_rating
from offload.reviews.services import publish_due_reviews, reply_to_review, submit_review
from tests.support.factories import age, all_skills, race, skill_ids

LATER = timedelta(days=15)  # past the 14-day window


def published(project: Project) -> dict[int, bool]:
    """author id → published, for the project's reviews."""
    db.session.rollback()
    return {a: p is not None for a, p in db.session.execute(
        select(Review.author_id, Review.published_at).where(Review.project_id == project.id))}


def rating_row(member: User) -> tuple[int, int] | None:
    db.session.rollback()
    row = db.session.get(MemberRating, member.id)
    return None if row is None else (row.reviews, row.stars_sum)


def skill_rows(member: User) -> dict[int, tuple[int, int]]:
    db.session.rollback()
    return {r.skill_id: (r.reviews, r.stars_sum) for r in db.session.scalars(
        select(MemberSkillRating).where(MemberSkillRating.member_id == member.id))}


def received(member: User) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == member.id, Notification.kind == "review_received"))


def counts() -> tuple[int, int, int, int, int]:
    db.session.rollback()
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (
        Review, ReviewSkillStars, ReviewReply, MemberRating, MemberSkillRating))


def poster_review(project, referrer, stars=5, skill_stars=None, body="Great work, on time."):
    return submit_review(project, actor=referrer, stars=stars, body=body,
                         skill_stars=all_skills(project, stars) if skill_stars is None
                         else skill_stars)


def performer_review(project, performer, stars=4, body="Clear brief, paid promptly."):
    return submit_review(project, actor=performer, stars=stars, body=body)


# --- double-blind publication ---------------------------------------------------------

def test_poster_first_then_performer_publishes_both(completed, referrer, performer):
    project = completed()
    poster_review(project, referrer, stars=5)
    assert published(project) == {referrer.id: False}
    assert rating_row(performer) is None and received(performer) == 0
    performer_review(project, performer, stars=3)
    assert published(project) == {referrer.id: True, performer.id: True}
    assert rating_row(performer) == (1, 5)
    assert rating_row(referrer) == (1, 3)
    assert set(skill_rows(performer).values()) == {(1, 5)}
    assert len(skill_rows(performer)) == 2
    assert skill_rows(referrer) == {}
    assert received(performer) == 1 and received(referrer) == 1


def test_performer_first_then_poster_publishes_both(completed, referrer, performer):
    project = completed()
    performer_review(project, performer, stars=2)
    assert published(project) == {performer.id: False}
    assert rating_row(referrer) is None and received(referrer) == 0
    poster_review(project, referrer, stars=4)
    assert published(project) == {referrer.id: True, performer.id: True}
    assert rating_row(referrer) == (1, 2)
    assert rating_row(performer) == (1, 4)
    assert received(performer) == 1 and received(referrer) == 1


def test_one_side_then_the_window_closes(completed, referrer, performer):
    project = completed()
    poster_review(project, referrer, stars=5)
    # before the window closes the job leaves it hidden
    assert publish_due_reviews() == 0
    assert publish_due_reviews(now=utcnow() + timedelta(days=13)) == 0
    assert published(project) == {referrer.id: False}
    assert publish_due_reviews(now=utcnow() + LATER) == 1
    assert published(project) == {referrer.id: True}
    assert rating_row(performer) == (1, 5) and received(performer) == 1
    # the other side can no longer review once the window is closed
    project = age(project, 15)
    before = counts()
    with pytest.raises(Conflict, match="window"):
        performer_review(project, performer)
    assert counts() == before
    assert rating_row(referrer) is None


def test_neither_side_reviews_the_job_publishes_nothing(completed, referrer, performer):
    completed()
    assert publish_due_reviews(now=utcnow() + LATER) == 0
    assert counts() == (0, 0, 0, 0, 0)
    assert received(referrer) == received(performer) == 0


def test_the_job_run_twice_publishes_once(completed, referrer, performer):
    project = completed()
    performer_review(project, performer, stars=1)
    assert publish_due_reviews(now=utcnow() + LATER) == 1
    assert publish_due_reviews(now=utcnow() + LATER) == 0
    assert rating_row(referrer) == (1, 1) and received(referrer) == 1
    assert published(project) == {performer.id: True}


def test_the_job_is_registered():
    from offload.jobs.registry import JOBS  # noqa: PLC0415

    assert "publish_due_reviews" in {job.name for job in JOBS}


def test_both_reviews_at_the_same_moment_publish_both_once(app, completed, referrer, performer):
    project = completed()
    project_id, referrer_id, performer_id = project.id, referrer.id, performer.id
    skills = all_skills(project, 4)

    def work(i):
        project = db.session.get(Project, project_id)
        if i == 0:
            return submit_review(project, actor=db.session.get(User, referrer_id), stars=4,
                                 body="Good.", skill_stars=skills).id
        return submit_review(project, actor=db.session.get(User, performer_id), stars=2,
                             body="Fine.").id

    results, errors = race(app, 2, work)
    assert not errors, errors
    assert len(results) == 2
    assert published(project) == {referrer_id: True, performer_id: True}
    assert rating_row(performer) == (1, 4)
    assert rating_row(referrer) == (1, 2)
    assert set(skill_rows(performer).values()) == {(1, 4)}
    assert received(performer) == 1 and received(referrer) == 1
    assert publish_due_reviews(now=utcnow() + LATER) == 0
    assert rating_row(performer) == (1, 4)


def test_a_double_submit_at_the_same_moment_writes_one(app, completed, performer):
    project = completed()
    project_id, performer_id = project.id, performer.id

    def work(i):
        return submit_review(db.session.get(Project, project_id),
                             actor=db.session.get(User, performer_id), stars=3,
                             body=f"Attempt {i}").id

    results, errors = race(app, 2, work)
    assert len(results) == 1
    assert [type(e) for e in errors] == [Conflict], errors
    assert counts()[0] == 1
    assert published(project) == {performer_id: False}


# --- ratings ---------------------------------------------------------------------------

def test_no_reviews_no_rating(performer):
    overall, skills = member_rating(performer.id)
    assert overall == Rating(None, 0)
    assert skills == []


@pytest.mark.parametrize(("stars", "expected"), [
    ([5], round((4 * 5 + 5) / 6, 2)),
    ([1], round((4 * 5 + 1) / 6, 2)),
    ([5, 5, 5], round((20 + 15) / 8, 2)),
    ([3, 4, 2, 5], round((20 + 14) / 9, 2)),
    ([4, 4], 4.0),
])
def test_bayesian_rating(completed, referrer, performer, stars, expected):
    for n in stars:
        project = completed()
        poster_review(project, referrer, stars=n)
        performer_review(project, performer, stars=5)  # publishes both
    overall, _ = member_rating(performer.id)
    assert overall == Rating(expected, len(stars))
    # the other side's rating: len(stars) fives
    assert member_rating(referrer.id)[0] == Rating(
        round((20 + 5 * len(stars)) / (5 + len(stars)), 2), len(stars))


def test_per_skill_ratings_best_first(completed, referrer, performer):
    first = completed(skill_names=["Python", "SQL"])
    ids = skill_ids(first)
    poster_review(first, referrer, stars=4,
                  skill_stars={ids["Python"]: 5, ids["SQL"]: 2})
    performer_review(first, performer)
    second = completed(skill_names=["Python", "Go"])
    ids2 = skill_ids(second)
    assert ids2["Python"] == ids["Python"]
    poster_review(second, referrer, stars=3,
                  skill_stars={ids2["Python"]: 3, ids2["Go"]: 1})
    performer_review(second, performer)

    overall, skills = member_rating(performer.id)
    assert overall == Rating(round((20 + 7) / 7, 2), 2)
    assert [(s.name, r) for s, r in skills] == [
        ("Python", Rating(round((20 + 8) / 7, 2), 2)),   # 4.0
        ("SQL", Rating(round((20 + 2) / 6, 2), 1)),      # 3.67
        ("Go", Rating(round((20 + 1) / 6, 2), 1)),       # 3.5
    ]
    assert member_rating(referrer.id)[1] == []


def test_hidden_reviews_are_not_counted(completed, referrer, performer):
    shown = completed()
    poster_review(shown, referrer, stars=5)
    performer_review(shown, performer, stars=5)
    hidden = completed()
    poster_review(hidden, referrer, stars=1)  # the performer hasn't reviewed: hidden
    overall, skills = member_rating(performer.id)
    assert overall == Rating(round(25 / 6, 2), 1)
    assert all(r.reviews == 1 for _, r in skills)
    publish_due_reviews(now=utcnow() + LATER)
    assert member_rating(performer.id)[0] == Rating(round(26 / 7, 2), 2)


# --- refusals --------------------------------------------------------------------------

def test_only_the_two_sides_review(completed, outsider, make_member):
    project = completed()
    admin = make_member("admin", admin=True)
    for actor in (outsider, admin):
        with pytest.raises(NotAllowed):
            submit_review(project, actor=actor, stars=5, body="Looks good to me.")
    assert counts() == (0, 0, 0, 0, 0)


def test_no_review_before_completion(start_project, referrer, performer):
    project = start_project()
    with pytest.raises(Conflict, match="completed"):
        submit_review(project, actor=performer, stars=5, body="Nice.")
    with pytest.raises(Conflict):
        submit_review(project, actor=referrer, stars=5, body="Nice.",
                      skill_stars=all_skills(project))
    assert counts() == (0, 0, 0, 0, 0)


def test_window_closed_refused_just_after_and_open_just_before(completed, performer, referrer):
    project = age(completed(), 14)
    with pytest.raises(Conflict, match="window"):
        performer_review(project, performer)
    assert counts() == (0, 0, 0, 0, 0)
    other = age(completed(), 13.9)
    performer_review(other, performer)
    assert published(other) == {performer.id: False}


def test_a_second_review_is_refused(completed, referrer, performer):
    project = completed()
    poster_review(project, referrer, stars=5)
    before = counts()
    with pytest.raises(Conflict, match="already"):
        poster_review(db.session.get(Project, project.id), referrer, stars=1)
    assert counts() == before
    assert published(project) == {referrer.id: False}
    performer_review(project, performer)
    with pytest.raises(Conflict):
        performer_review(db.session.get(Project, project.id), performer, stars=1)
    assert rating_row(performer) == (1, 5) and rating_row(referrer) == (1, 4)


@pytest.mark.parametrize("stars", [0, 6, -1, None, "5", 4.5, True])
def test_bad_stars_are_refused(completed, performer, stars):
    project = completed()
    with pytest.raises(InvalidField) as e:
        submit_review(project, actor=performer, stars=stars, body="Fine.")
    assert e.value.field == "stars"
    assert counts() == (0, 0, 0, 0, 0)


@pytest.mark.parametrize("body", ["", "   ", "\n\t\n"])
def test_a_blank_body_is_refused(completed, performer, body):
    project = completed()
    with pytest.raises(InvalidField) as e:
        submit_review(project, actor=performer, stars=4, body=body)
    assert e.value.field == "body"
    assert counts() == (0, 0, 0, 0, 0)


def test_a_body_over_the_limit_is_refused(completed, performer):
    project = completed()
    with pytest.raises(InvalidField):
        submit_review(project, actor=performer, stars=4, body="x" * 4001)
    assert counts() == (0, 0, 0, 0, 0)


def test_the_poster_must_rate_each_skill_and_only_those(completed, referrer, make_gig):
    project = completed()
    ids = skill_ids(project)
    make_gig(skill_names=["Rust"])
    rust = db.session.scalar(select(Skill.id).where(Skill.name == "Rust"))
    bad = [
        {},                                         # none
        {ids["Python"]: 5},                         # one missing
        {**all_skills(project), rust: 5},           # one extra
        {ids["Python"]: 5, rust: 5},                # one swapped
        {ids["Python"]: 5, ids["SQL"]: 0},          # out of range
        {ids["Python"]: 5, ids["SQL"]: 6},
        {ids["Python"]: 5, ids["SQL"]: None},
    ]
    for skill_stars in bad:
        with pytest.raises(InvalidField) as e:
            submit_review(db.session.get(Project, project.id), actor=referrer, stars=5,
                          body="Great.", skill_stars=skill_stars)
        assert e.value.field == "skills", skill_stars
    assert counts() == (0, 0, 0, 0, 0)


def test_the_performer_gives_no_skill_stars(completed, performer):
    project = completed()
    with pytest.raises(InvalidField) as e:
        submit_review(project, actor=performer, stars=5, body="Great.",
                      skill_stars=all_skills(project))
    assert e.value.field == "skills"
    assert counts() == (0, 0, 0, 0, 0)


# --- replies ---------------------------------------------------------------------------

def test_reply_once_by_the_subject_after_publication(completed, referrer, performer, outsider):
    project = completed()
    review = poster_review(project, referrer, stars=4)
    review_id = review.id
    with pytest.raises(Conflict, match="published"):
        reply_to_review(db.session.get(Review, review_id), actor=performer, body="Thanks!")
    assert counts()[2] == 0
    performer_review(project, performer)
    for actor in (referrer, outsider):
        with pytest.raises(NotAllowed):
            reply_to_review(db.session.get(Review, review_id), actor=actor, body="Me too.")
    with pytest.raises(InvalidField):
        reply_to_review(db.session.get(Review, review_id), actor=performer, body="  ")
    assert counts()[2] == 0
    reply = reply_to_review(db.session.get(Review, review_id), actor=performer,
                            body="Thank you, Rita!")
    assert (reply.review_id, reply.author_id) == (review_id, performer.id)
    db.session.expunge_all()  # as a second request would: a fresh session
    with pytest.raises(Conflict, match="already"):
        reply_to_review(db.session.get(Review, review_id), actor=performer, body="Again.")
    db.session.rollback()
    assert [r.body for r in db.session.scalars(select(ReviewReply))] == ["Thank you, Rita!"]


def test_a_review_published_by_the_job_can_be_replied_to(completed, referrer, performer):
    project = completed()
    review_id = performer_review(project, performer).id
    publish_due_reviews(now=utcnow() + LATER)
    reply_to_review(db.session.get(Review, review_id), actor=referrer, body="Thanks.")
    assert counts()[2] == 1
