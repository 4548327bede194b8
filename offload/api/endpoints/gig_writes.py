"""Posting, editing and cancelling a gig, asking and answering its questions: the gig
pages' forms (``gigs.views``) over ``gigs.services``, authorized as those pages are.

The page posts a gig on the board at once (it keeps no drafts), so the API does too,
and there is no publishing. Editing is the poster's alone (anyone else: 404, admins
included, as the edit page); cancelling the poster's or an admin's (with a reason).
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from werkzeug.exceptions import NotFound

from offload.core.db import db
from offload.gigs import services
from offload.gigs.models import Question
from offload.gigs.queries import gig_for, gig_for_edit, gig_page

from ..blueprint import bp, link, needs, problem_response
from ..schemas.gigs import (
    AnswerBody,
    CancelBody,
    GigDetailSchema,
    GigEditBody,
    GigPostBody,
    QuestionBody,
    QuestionSchema,
)
from ..writes import LOCATION_HEADER, body_names, created, loads, refusable
from .gigs import gig, gig_detail, posters_gig
from .offers import OFFERS

# the service's field names → the body's
_BODY_NAMES = {"budget_min": "budget_min_minor", "budget_max": "budget_max_minor"}
_CLIENT_FIELDS = {"client_name": "name", "client_contact": "contact", "client_notes": "notes"}
_NO_GIG = "No such gig, or one the member may not see (another's draft)"


def _gig(member, gig_id: int) -> dict[str, Any]:
    return {"gig": gig_for(member, gig_id)}


def _own_gig(member, gig_id: int) -> dict[str, Any]:
    """The gig and its client details, the poster's alone (the edit page's 404)."""
    page = gig_for_edit(gig_id, member)
    if page is None or page.gig.poster_id != member.id:
        raise NotFound()
    return {"page": page}


def _cancellable(member, gig_id: int) -> dict[str, Any]:
    return {"gig": posters_gig(member, gig_id)}


def _question(member, gig_id: int, question_id: int) -> dict[str, Any]:
    gig = gig_for(member, gig_id)
    question = db.session.get(Question, question_id)
    if question is None or question.gig_id != gig.id:
        raise NotFound()
    return {"question": question}


def _client(body: dict, current: dict[str, str] | None = None) -> dict[str, str] | None:
    """The client fields given (over ``current``), or None when none is given."""
    given = {key: body[name] for name, key in _CLIENT_FIELDS.items() if name in body}
    if not given:
        return None
    return {**(current or {}), **given}


@bp.route("/gigs", methods=["POST"], tags=["gigs"])
@needs(OFFERS)
@link("TheGig", "/gigs/{gig_id}", gig_id="$response.body#/id")
@refusable
@bp.arguments(GigPostBody)
@bp.response(201, GigDetailSchema, headers=LOCATION_HEADER)
def post_gig(member, body: dict):
    """Post a gig: on the board at once, as the page posts it"""
    low = body["budget_min_minor"]
    with body_names(_BODY_NAMES):
        gig = services.post_gig(actor=member, kind=body["kind"], title=body["title"],
                       description=body["description"], skill_names=body["skills"],
                       category=body["category"], budget_min_minor=low,
                       budget_max_minor=body.get("budget_max_minor", low),
                       deadline=body["deadline"], client_details=_client(body))
    return created(gig_detail(member, gig.id), "api.gig", gig_id=gig.id)


@needs(OFFERS)
@refusable
@loads(_own_gig)
@problem_response(404, "No such gig, or not the member's")
@bp.arguments(GigEditBody, required=False)
@bp.response(200, GigDetailSchema)
def edit_gig(member, body: dict, page):
    """Edit one's draft or open gig: the fields given change, the rest stay"""
    gig, details = page.gig, page.client_details
    terms = {"title": gig.title, "description": gig.description,
             "skill_names": [skill.name for skill in gig.skills], "category": gig.category,
             "budget_min_minor": gig.budget_min_minor, "budget_max_minor": gig.budget_max_minor,
             "deadline": gig.deadline}
    terms.update({name: body[name] for name in terms if name in body})
    if "skills" in body:
        terms["skill_names"] = body["skills"]
    current = details and {"name": details.client_name, "contact": details.contact,
                           "notes": details.notes}
    client = _client(body, current)
    with body_names(_BODY_NAMES):
        services.edit_gig(gig, actor=member, client_details=client, **terms)
    return gig_detail(member, page.gig.id)


@bp.route("/gigs/<int:gig_id>", endpoint="gig", tags=["gigs"])
class OneGig(MethodView):
    # one rule for both methods (see offers.GigOffers)
    get = staticmethod(gig)
    patch = staticmethod(edit_gig)


@bp.route("/gigs/<int:gig_id>/cancel", methods=["POST"], tags=["gigs"])
@needs(OFFERS)
@refusable
@loads(_cancellable)
@problem_response(404, "No such gig, or not the member's (admins may cancel any)")
@bp.arguments(CancelBody, required=False)
@bp.response(200, GigDetailSchema)
def cancel_gig(member, body: dict, gig):
    """Cancel an open gig: off the board for good, its open offers declined"""
    gig_id = gig.id
    services.cancel_gig(gig, actor=member, reason=body["reason"])
    return gig_detail(member, gig_id)


@bp.route("/gigs/<int:gig_id>/questions", methods=["POST"], tags=["gigs"])
@needs(OFFERS)
@refusable
@loads(_gig)
@problem_response(404, _NO_GIG)
@bp.arguments(QuestionBody)
@bp.response(201, QuestionSchema, headers=LOCATION_HEADER)
def ask_question(member, body: dict, gig):
    """Ask the poster a question on an open gig; every member sees it"""
    gig_id = gig.id
    question = services.ask_question(gig, actor=member, body=body["body"])
    return created(_question_item(member, gig_id, question.id), "api.gig", gig_id=gig_id)


@bp.route("/gigs/<int:gig_id>/questions/<int:question_id>/answer", methods=["POST"],
          tags=["gigs"])
@needs(OFFERS)
@refusable
@loads(_question)
@problem_response(404, "No such question on this gig, or a gig the member may not see")
@bp.arguments(AnswerBody)
@bp.response(200, QuestionSchema)
def answer_question(member, body: dict, question):
    """Answer a question on one's gig, once"""
    gig_id, question_id = question.gig_id, question.id
    services.answer_question(question, actor=member, answer=body["answer"])
    return _question_item(member, gig_id, question_id)


def _question_item(member, gig_id: int, question_id: int):
    """The question as the gig page shows it."""
    page = gig_page(gig_id, member)
    return next(q for q in page.questions if q.id == question_id)
