"""Writing a review from the project page (which it renders, through
projects.rendering, when the review is refused), replying to one, a member's reviews."""

from __future__ import annotations

from flask import Blueprint, abort, render_template, request, url_for
from flask_login import current_user, login_required

from offload.accounts.decorators import login_or_404
from offload.accounts.models import User
from offload.accounts.queries import member_named
from offload.core.db import db
from offload.core.forms import parse_id
from offload.core.submit import submit, submit_button
from offload.projects.queries import project_for
from offload.projects.rendering import render_project_page

from .forms import ReplyForm, ReviewForm
from .models import Review
from .queries import member_rating, member_reviews_page, replies_of
from .services import reply_to_review, submit_review

bp = Blueprint("reviews", __name__)


@bp.post("/projects/<int:project_id>/review")
@login_or_404
def review(project_id: int):
    project = project_for(current_user, project_id)
    form = ReviewForm()

    def again():
        # an invalid form was not sent to the service: say everything missing at once
        if not form.form_errors and _number("stars") is None:
            form.form_errors.append("Choose from 1 to 5 stars.")
        return render_project_page(project_id, form)

    return submit(form, lambda: submit_review(
        project, actor=current_user, stars=_number("stars"), body=form.body.data,
        skill_stars={skill_id: _number(k) for k in request.form if k.startswith("skill-")
                     and (skill_id := parse_id(k.removeprefix("skill-")))}),
        done="Your review is in. Both reviews are published when the other side's is in "
             "too, or when the review window closes.",
        then=url_for("projects.show", project_id=project_id, _anchor="reviews"),
        again=again)


@bp.post("/reviews/<int:review_id>/reply")
@login_required
def reply(review_id: int):
    review = db.session.get(Review, review_id)
    if review is None or review.published_at is None:
        abort(404)
    form = ReplyForm(prefix=f"reply-{review_id}")
    return submit_button(form, lambda: reply_to_review(review, actor=current_user,
                                                       body=form.body.data),
                         done="Your reply is published with the review.",
                         to=url_for(".of_member", _anchor=f"review-{review_id}",
                                    username=db.session.get(User, review.subject_id).username))


@bp.get("/members/<username>/reviews")
@login_required
def of_member(username: str):
    member = member_named(username) or abort(404)
    page = member_reviews_page(member.id, request.args.get("before"))
    overall, skills = member_rating(member.id)
    return render_template("reviews/of_member.html", member=member, page=page,
                           rating=overall, skills=skills,
                           replies=replies_of([r.id for r in page.items]),
                           reply_form=ReplyForm(formdata=None))



def _number(name: str) -> int | None:
    """A star count or skill id typed into the form: a positive whole number read as
    strictly as an id (the service checks the range of stars)."""
    return parse_id(request.form.get(name, ""))

