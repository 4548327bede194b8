"""A task project's milestones as its page reads and acts on them: add one, read one,
fund it (escrow), deliver it, ask for a revision, release it.

Each is loaded and authorized as the page does (``project_for``, ``milestone_for``: the
two sides and admins; everyone else a 404, before the body is read); a refusal is the
service's. Funding and releasing move money: they take an ``Idempotency-Key``. A
delivery over the API is its note; files are handed over on the page.
"""

from __future__ import annotations

from offload.accounts.models import TokenScope
from offload.core.links import external_url
from offload.milestones import services
from offload.milestones.queries import milestone_for, milestone_lines
from offload.projects.queries import project_for

from ..blueprint import LOCATION_HEADER, READ, bp, link, loaded, needs, problem_response, stacked
from ..idempotency import IdempotencyHeader
from ..schemas.projects import MilestoneBody, MilestoneSchema, NoteBody

PROJECTS = TokenScope.PROJECTS.value
WALLET = TokenScope.WALLET.value
NOT_YOURS = "No such milestone, or one on a project the member is not a side of"
MOVED_ON = "The milestone (or its project) is no longer in a state that allows this"


def on_milestone(action: str, scope: str):
    """``POST /milestones/<id>/<action>`` with ``scope``: the view gets the milestone,
    loaded and authorized first. Goes above ``@bp.arguments``."""
    return stacked(bp.route("/milestones/<int:milestone_id>/" + action, methods=["POST"],
                            tags=["milestones"]),
                   needs(scope), loaded("milestone", milestone_for),
                   problem_response(404, NOT_YOURS), problem_response(409, MOVED_ON))


def _line(milestone_id: int, project_id: int):
    """The milestone as the project page shows it (``MilestoneLine``)."""
    return next(m for m in milestone_lines(project_id) if m.id == milestone_id)


def _answer(milestone):
    return _line(milestone.id, milestone.project_id)


@bp.route("/projects/<int:project_id>/milestones", methods=["POST"], tags=["milestones"])
@needs(PROJECTS)
@link("TheMilestone", "/milestones/{milestone_id}", milestone_id="$response.body#/id")
@loaded("project", project_for)
@problem_response(404, "No such project, or one the member is not a side of")
@problem_response(409, "The project is not running, or its milestones reach its price")
@bp.arguments(MilestoneBody, as_kwargs=True)
@bp.response(201, MilestoneSchema, headers=LOCATION_HEADER)
def add_milestone(member, project, title: str, amount_minor: int, due_on):
    """Add a milestone to a running task project (the customer), not funded yet; the
    milestones add up to at most the agreed price"""
    milestone = services.add_milestone(project, actor=member, title=title,
                                       amount_minor=amount_minor, due_on=due_on)
    return _answer(milestone), 201, {
        "Location": external_url("api.milestone", milestone_id=milestone.id)}


@bp.route("/milestones/<int:milestone_id>", tags=["milestones"])
@needs(READ)
@loaded("milestone", milestone_for)
@problem_response(404, NOT_YOURS)
@bp.response(200, MilestoneSchema)
def milestone(member, milestone):
    """One milestone, with its dispute if it has one"""
    return _answer(milestone)


@on_milestone("fund", WALLET)
@bp.arguments(IdempotencyHeader, location="headers", as_kwargs=True)
@bp.response(200, MilestoneSchema)
def fund_milestone(member, milestone, idempotency_key: str):
    """Put the milestone's amount in escrow from the customer's wallet; a wallet that
    doesn't cover it is refused. A retry with the same key answers as the first time"""
    services.fund_milestone(milestone, actor=member, idempotency_key=idempotency_key)
    return _answer(milestone)


@on_milestone("deliver", PROJECTS)
@bp.arguments(NoteBody, as_kwargs=True)
@bp.response(200, MilestoneSchema)
def deliver_milestone(member, milestone, note: str):
    """The performer delivers a funded milestone with a note on what and where"""
    services.deliver_milestone(milestone, actor=member, note=note)
    return _answer(milestone)


@on_milestone("revision", PROJECTS)
@bp.arguments(NoteBody, as_kwargs=True)
@bp.response(200, MilestoneSchema)
def ask_for_revision(member, milestone, note: str):
    """The customer sends delivered work back with a note; the money stays in escrow"""
    services.ask_for_revision(milestone, actor=member, note=note)
    return _answer(milestone)


@on_milestone("release", WALLET)
@bp.arguments(IdempotencyHeader, location="headers", as_kwargs=True)
@bp.response(200, MilestoneSchema)
def release_milestone(member, milestone, idempotency_key: str):
    """The customer pays a funded or delivered milestone out of escrow to the performer;
    the project completes when its price is then paid. A retry with the same key answers
    as the first time"""
    services.release_milestone(milestone, actor=member, idempotency_key=idempotency_key)
    return _answer(milestone)
