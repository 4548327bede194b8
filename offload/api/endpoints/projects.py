"""Projects as their pages read and write them: the member's list (My projects), one
project (the top of its page with its milestones or commission), its timeline as a
feed a script polls, posting on it; a referral's completion and its commission (pay,
and the referrer's review of an amount under the price).

Each project is loaded and authorized as its page does it (``project_for``: the two
sides and admins; everyone else a 404, before the body is read); a refusal is the
service's. Completing and paying move money: they take an ``Idempotency-Key``.
"""

from __future__ import annotations

from flask import current_app
from werkzeug.exceptions import NotFound

from offload.accounts.models import TokenScope
from offload.cases.invoices import contest_invoice
from offload.commissions.queries import commission_for, commission_line
from offload.commissions.services import accept_invoice, complete_referral, pay_commission
from offload.core.links import external_url
from offload.milestones.queries import milestone_lines
from offload.projects.page import project_header
from offload.projects.policies import can_view_project
from offload.projects.queries import my_projects, project_for, timeline_after
from offload.projects.services import post_project_event

from ..blueprint import (
    LINK_HEADER,
    LOCATION_HEADER,
    READ,
    Joined,
    bp,
    loaded,
    needs,
    problem_response,
    stacked,
)
from ..idempotency import IdempotencyHeader
from ..paging import paged, polled
from ..schemas.common import CursorQuery, SinceQuery
from ..schemas.projects import (
    CommissionSchema,
    CompleteBody,
    ContestBody,
    EventBody,
    ProjectDetailSchema,
    ProjectPageSchema,
    TimelineEventSchema,
    TimelineSchema,
)

PROJECTS = TokenScope.PROJECTS.value
WALLET = TokenScope.WALLET.value
NOT_YOURS = "No such project, or one the member is not a side of"
NO_COMMISSION = "No such commission, or one on a project the member is not a side of"
REVIEWED = "Already reviewed, or the review window has closed"


def on_commission(action: str, scope: str, conflict: str):
    """``POST /commissions/<id>/<action>`` with ``scope``: the view gets the commission,
    loaded and authorized first (as its project). Goes above ``@bp.arguments``."""
    return stacked(bp.route("/commissions/<int:commission_id>/" + action, methods=["POST"],
                            tags=["projects"]),
                   needs(scope), loaded("commission", commission_for),
                   problem_response(404, NO_COMMISSION), problem_response(409, conflict))


@bp.route("/projects", tags=["projects"])
@needs(READ)
@bp.arguments(CursorQuery, location="query", as_kwargs=True)
@bp.response(200, ProjectPageSchema, headers=LINK_HEADER)
def projects(member, cursor: str | None = None, limit: int | None = None):
    """The member's projects, as performer or as poster (the referrer or the customer),
    newest first: My projects"""
    page = my_projects(member.id, cursor=cursor, size=limit)
    return paged(page.items, page.next_cursor)


@bp.route("/projects/<int:project_id>", tags=["projects"])
@needs(READ)
@problem_response(404, NOT_YOURS)
@bp.response(200, ProjectDetailSchema)
def project(member, project_id: int):
    """One project as the top of its page shows it, with a task's milestones or a
    referral's commission (null until the work is complete)"""
    header = project_header(project_id)
    if header is None or not can_view_project(header, member):
        raise NotFound()
    task = header.kind == "task"
    return Joined(header, milestones=milestone_lines(header.id) if task else [],
                  commission=None if task else commission_line(header.id))


@bp.route("/projects/<int:project_id>/timeline", tags=["projects"])
@needs(READ)
@loaded("project", project_for)
@problem_response(404, NOT_YOURS)
@bp.arguments(SinceQuery, location="query", as_kwargs=True)
@bp.response(200, TimelineSchema, headers=LINK_HEADER)
def timeline(member, project, since: int = 0, limit: int | None = None):
    """The project's timeline, oldest first, after `since`. `next` is always there:
    follow it for more, and poll it later for what happens next"""
    size = limit or current_app.config["PAGE_SIZE"]
    return polled(timeline_after(project.id, since, size), since)


@bp.route("/projects/<int:project_id>/events", methods=["POST"], tags=["projects"])
@needs(PROJECTS)
@loaded("project", project_for)
@problem_response(404, NOT_YOURS)
@problem_response(409, "The project has ended: its timeline is closed")
@bp.arguments(EventBody, as_kwargs=True)
@bp.response(201, TimelineEventSchema, headers=LOCATION_HEADER)
def post_event(member, project, kind: str, note: str):
    """Post an event with a note on the timeline, as the project page's form does (the
    two sides, while the project runs); the other side is told"""
    event = post_project_event(project, actor=member, kind=kind, note=note)
    (posted,) = timeline_after(project.id, event.id - 1, 1)
    return posted, 201, {"Location": external_url(
        "api.timeline", project_id=project.id, _query=f"since={event.id - 1}")}


@bp.route("/projects/<int:project_id>/complete", methods=["POST"], tags=["projects"])
@needs(WALLET)
@loaded("project", project_for)
@problem_response(404, NOT_YOURS)
@problem_response(409, "The project has already ended")
@bp.arguments(IdempotencyHeader, location="headers", as_kwargs=True)
@bp.arguments(CompleteBody, as_kwargs=True)
@bp.response(201, CommissionSchema, headers=LOCATION_HEADER)
def complete(member, project, idempotency_key: str, invoiced_minor: int, reason: str = ""):
    """A referral's completion: the performer enters the amount invoiced to the client;
    the commission is paid from their wallet when it covers it, else it is due. An
    amount under the agreed price needs a reason, which the referrer reviews. A retry
    with the same key answers as the first time"""
    complete_referral(project, actor=member, invoiced_minor=invoiced_minor,
                      idempotency_key=idempotency_key, invoice_reason=reason)
    return commission_line(project.id), 201, {
        "Location": external_url("api.project", project_id=project.id)}


def _settled(commission):
    return commission_line(commission.project_id)


@on_commission("pay", WALLET, "The commission is already paid")
@bp.arguments(IdempotencyHeader, location="headers", as_kwargs=True)
@bp.response(200, CommissionSchema)
def pay(member, commission, idempotency_key: str):
    """Pay a due commission from the performer's wallet, as the project page's "pay now"
    does; a wallet that doesn't cover it is refused. A retry with the same key answers
    as the first time"""
    pay_commission(commission, actor=member, idempotency_key=idempotency_key)
    return _settled(commission)


@on_commission("accept-invoice", PROJECTS, REVIEWED)
@bp.response(200, CommissionSchema)
def accept_invoiced(member, commission):
    """The referrer accepts an invoiced amount under the agreed price"""
    accept_invoice(commission, actor=member)
    return _settled(commission)


@on_commission("contest-invoice", PROJECTS, REVIEWED)
@bp.arguments(ContestBody, as_kwargs=True)
@bp.response(200, CommissionSchema)
def contest_invoiced(member, commission, statement: str):
    """The referrer contests an invoiced amount under the agreed price: an admin looks
    at both sides and may correct it"""
    contest_invoice(commission, actor=member, statement=statement)
    return _settled(commission)
