"""The board and one gig, as the board and gig pages read them (``gigs.queries``)."""

from __future__ import annotations

from flask import request
from flask_smorest import abort as abort_with
from werkzeug.exceptions import NotFound

from offload.gigs.filters import BoardFilters
from offload.gigs.models import Gig
from offload.gigs.queries import board_page, gig_for, gig_page

from ..blueprint import LINK_HEADER, READ, Joined, bp, needs, problem_response
from ..paging import paged
from ..schemas.gigs import BoardQuery, GigDetailSchema, GigPageSchema


@bp.route("/gigs", tags=["gigs"])
@needs(READ)
@bp.arguments(BoardQuery, location="query", as_kwargs=True)
@bp.response(200, GigPageSchema, headers=LINK_HEADER)
def gigs(member, cursor: str | None = None, limit: int | None = None, **_filters):
    """The board: open gigs, filtered, searched and sorted as on the board page"""
    filters, errors = BoardFilters.from_args(request.args)
    if errors:
        abort_with(422, messages={"query": {key: [message] for key, message in errors.items()}})
    page = board_page(filters, cursor, size=limit)
    return paged(page.items, page.next_cursor)


# routed with its PATCH, one rule for both, in gig_writes.py
@needs(READ)
@problem_response(404, "No such gig, or one the member may not see (another's draft)")
@bp.response(200, GigDetailSchema)
def gig(member, gig_id: int):
    """One gig, with its questions and answers (a draft of another member is a 404)"""
    return gig_detail(member, gig_id)


def gig_detail(member, gig_id: int) -> Joined:
    """What ``GigDetailSchema`` shows of the gig, as its page reads it; else NotFound."""
    page = gig_page(gig_id, member)
    if page is None:
        raise NotFound()
    return Joined(page.gig, questions=page.questions, client_details=page.client_details)


def posters_gig(member, gig_id: int) -> Gig:
    """The gig, for its poster and admins; else NotFound (the 404 of the pages that
    cancel a gig and rank its offers)."""
    gig = gig_for(member, gig_id)
    if gig.poster_id != member.id and not member.is_admin:
        raise NotFound()
    return gig
