"""On the hook: while a case is open its subject and the subject's inviter may not send
invites, post or publish gigs, or make offers; nobody else is held (not the subject's
own invitees, not the inviter's inviter, not an admin as inviter); both can still
finish running projects and pay what they owe; the pages say why and link the case.
A case that contests an invoiced amount holds nobody (a disagreement about money for
an admin to settle); a commission it leaves due goes the ordinary overdue way.
"""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
from sqlalchemy import event, select, update

from offload.accounts.models import User
from offload.cases.hook import HookReason, hook_case, why_on_the_hook
from offload.cases.invoices import contest_invoice
from offload.cases.models import Case
from offload.cases.services import open_overdue_commission_cases, resolve_case
from offload.commissions.models import Commission, CommissionState
from offload.commissions.services import (
    complete_referral,
    flag_overdue_commissions,
    pay_commission,
)
from offload.core.db import db, utcnow
from offload.core.errors import Conflict, Invalid, NotAllowed
from offload.gigs.models import Gig, GigState
from offload.gigs.services import publish_gig
from offload.invites.models import Invite
from offload.invites.services import send_invite
from offload.milestones.models import Milestone
from offload.milestones.services import (
    add_milestone,
    deliver_milestone,
    fund_milestone,
    release_milestone,
)
from offload.offers.models import Offer
from offload.projects.models import Project, ProjectState
from offload.projects.services import post_project_event
from tests.support.cases import key
from tests.support.factories import PASSWORD, count, fresh

ACTIONS = ("send_invite", "post_gig", "publish_gig", "make_offer")
ABOUT_SAM = "about Sam Subject, whom you invited"


class Attempt:
    """Try one restricted action as a member. Drafts to publish must exist before the
    case opens (posting one is held too): ``prepare(*members)`` writes them."""

    def __init__(self, make_member, make_gig, make_offer):
        self.make_gig, self.make_offer = make_gig, make_offer
        self.poster = make_member("poppy", display_name="Poppy Poster")
        self.drafts: dict[int, int] = {}
        self._emails = itertools.count(1)

    def prepare(self, *members) -> None:
        for member in members:
            self.drafts[member.id] = self.make_gig(poster=member, publish=False).id

    def __call__(self, action: str, member):
        member = db.session.get(User, member.id)
        if action == "send_invite":
            return send_invite(actor=member, email=f"friend{next(self._emails)}@example.com",
                               vouch_note="We shipped a shop together.")
        if action == "post_gig":
            return self.make_gig(poster=member)
        if action == "publish_gig":
            return publish_gig(db.session.get(Gig, self.drafts[member.id]), actor=member)
        assert action == "make_offer"
        return self.make_offer(self.make_gig(poster=self.poster), member)


@pytest.fixture
def attempt(make_member, make_gig, make_offer):
    return Attempt(make_member, make_gig, make_offer)


def footprint(*members) -> tuple[int, int, int]:
    """What a restricted action by these members would add: invites, their gigs on the
    board, offers."""
    ids = [m.id for m in members]
    return (count(Invite, Invite.inviter_id.in_(ids)),
            count(Gig, Gig.state == GigState.OPEN, Gig.poster_id.in_(ids)),
            count(Offer, Offer.member_id.in_(ids)))


def refused(attempt, action, member, case_id, about):
    with pytest.raises((NotAllowed, Conflict)) as error:
        attempt(action, member)
    assert_names_case(str(error.value), case_id, about)
    return error.value


def assert_names_case(text: str, case_id: int, about: str) -> None:
    """The reason names the case and whom it is about ("…, whom you invited, is open")."""
    assert re.search(rf"case #{case_id} {re.escape(about)},? is open", text), text[:3000]


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("resolution", ["cleared", "warned"])
def test_subject_and_inviter_are_held_while_the_case_is_open_and_free_after(
        attempt, action, resolution, open_case_about, admin, gramps, ivan, sam, gina, tom):
    attempt.prepare(gramps, ivan, sam, gina, tom)
    case = open_case_about(sam)
    refused(attempt, action, sam, case.id, "about you")
    refused(attempt, action, ivan, case.id, ABOUT_SAM)
    assert footprint(sam, ivan) == (0, 0, 0)  # nothing was half made
    for member in (gina, tom, gramps):  # sam's invitee, a stranger, ivan's inviter
        attempt(action, member)
    resolve_case(fresh(Case, case.id), actor=admin, resolution=resolution,
                 reason="A misunderstanding about the deadline.")
    for member in (sam, ivan):
        attempt(action, member)


@pytest.mark.parametrize("action", ACTIONS)
def test_a_suspension_ends_the_case_so_the_inviter_is_free_again(
        attempt, action, open_case_about, admin, ivan, sam):
    attempt.prepare(ivan)
    case = open_case_about(sam)
    refused(attempt, action, ivan, case.id, ABOUT_SAM)
    resolve_case(fresh(Case, case.id), actor=admin, resolution="suspended",
                 reason="Took the client's money and vanished.")
    attempt(action, ivan)


def test_the_reason_says_which_case_and_whom_it_is_about(open_case_about, gramps, ivan, sam,
                                                         gina, tom):
    case = open_case_about(sam)
    own = why_on_the_hook(fresh(User, sam.id), "post gigs")
    assert isinstance(own, HookReason) and own.case_id == case.id
    assert own == (f"You can't post gigs while case #{case.id} about you is open. You can "
                   "still finish your running projects and pay what you owe.")
    theirs = why_on_the_hook(fresh(User, ivan.id), "send invites")
    assert theirs.case_id == case.id
    assert theirs.startswith(f"You can't send invites while case #{case.id} {ABOUT_SAM}")
    assert_names_case(theirs, case.id, ABOUT_SAM)
    for member in (gramps, gina, tom):
        assert why_on_the_hook(fresh(User, member.id), "post gigs") is None
        assert hook_case(fresh(User, member.id)) is None


def test_the_oldest_open_case_is_named_until_it_is_resolved(open_case_about, admin, gramps,
                                                            ivan, sam):
    about_sam = open_case_about(sam)
    about_ivan = open_case_about(ivan)
    assert why_on_the_hook(fresh(User, ivan.id), "post gigs").case_id == about_sam.id
    assert why_on_the_hook(fresh(User, gramps.id), "post gigs").case_id == about_ivan.id
    resolve_case(fresh(Case, about_sam.id), actor=admin, resolution="cleared", reason="Fine.")
    reason = why_on_the_hook(fresh(User, ivan.id), "post gigs")
    assert reason.case_id == about_ivan.id and "about you" in reason
    assert why_on_the_hook(fresh(User, sam.id), "post gigs") is None
    resolve_case(fresh(Case, about_ivan.id), actor=admin, resolution="warned",
                 reason="Answer messages within a week.")
    assert why_on_the_hook(fresh(User, ivan.id), "post gigs") is None
    assert why_on_the_hook(fresh(User, gramps.id), "post gigs") is None


@pytest.mark.parametrize("action", ACTIONS)
def test_an_admin_is_not_held_for_an_invitee_but_is_for_their_own_case(
        attempt, action, make_member, open_case_about, admin, other_admin):
    newbie = make_member("newbie", inviter=admin)
    attempt.prepare(admin)
    open_case_about(newbie)
    attempt(action, admin)  # the admin invited newbie: not held for it
    attempt.prepare(admin)
    case = open_case_about(admin, actor=other_admin)
    refused(attempt, action, admin, case.id, "about you")


def test_an_admin_cannot_open_a_case_about_themselves(open_case_about, admin):
    with pytest.raises(Invalid, match="Another admin"):
        open_case_about(admin)
    assert count(Case) == 0


def test_the_hook_follows_the_invite_edge_when_it_moves(open_case_about, ivan, sam, tom):
    case = open_case_about(sam)
    db.session.execute(update(User).where(User.id == sam.id).values(invited_by_id=tom.id))
    db.session.commit()
    assert why_on_the_hook(fresh(User, ivan.id), "post gigs") is None
    assert why_on_the_hook(fresh(User, tom.id), "post gigs").case_id == case.id


def test_both_finish_running_projects_and_pay_what_they_owe_while_held(
        run_project, fund, open_case_about, ivan, sam, tom):
    fund(tom, 1_00)  # the prepaid click of tom's task offer
    fund(ivan, 400_00)
    referral = run_project(tom, sam)  # sam performs tom's referral
    task = run_project(ivan, tom, kind="task")  # ivan is the customer of a task
    open_case_about(sam)

    post_project_event(fresh(Project, referral.id), actor=fresh(User, sam.id), kind="update",
                       note="The shop is live on staging.")
    commission = complete_referral(fresh(Project, referral.id), actor=fresh(User, sam.id),
                                   invoiced_minor=1_000_00, idempotency_key=key())
    assert commission.state == CommissionState.DUE  # sam's wallet was empty
    fund(fresh(User, sam.id), commission.commission_minor)
    pay_commission(fresh(Commission, commission.id), actor=fresh(User, sam.id),
                   idempotency_key=key())
    assert fresh(Commission, commission.id).state == CommissionState.PAID

    milestone = add_milestone(fresh(Project, task.id), actor=fresh(User, ivan.id),
                              title="The whole job", amount_minor=400_00,
                              due_on=utcnow().date() + timedelta(days=3))
    fund_milestone(fresh(Milestone, milestone.id), actor=fresh(User, ivan.id),
                   idempotency_key=key())
    deliver_milestone(fresh(Milestone, milestone.id), actor=fresh(User, tom.id),
                      note="Done: see the repository.")
    release_milestone(fresh(Milestone, milestone.id), actor=fresh(User, ivan.id))

    assert fresh(Project, referral.id).state == ProjectState.COMPLETED
    assert fresh(Project, task.id).state == ProjectState.COMPLETED
    # still held: paying and finishing did not close the case
    assert why_on_the_hook(fresh(User, sam.id), "post gigs") is not None
    assert why_on_the_hook(fresh(User, ivan.id), "post gigs") is not None


# --- the pages -------------------------------------------------------------------------

def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def case_link(case_id: int) -> re.Pattern:
    return re.compile(rf'<a [^>]*href="/cases/{case_id}"[^>]*>\s*See case #{case_id}\s*</a>')


def test_the_pages_say_why_and_link_the_case(client, login, make_gig, open_case_about, ivan,
                                             sam, tom):
    gig = make_gig(poster=tom)
    case = open_case_about(sam)
    urls = ["/invites", "/gigs/new", f"/gigs/{gig.id}/offers/new", f"/gigs/{gig.id}",
            "/dashboard"]
    for member, about in ((sam, "about you"), (ivan, ABOUT_SAM)):
        login(member)
        for url in urls:
            text = page(client, url)
            assert_names_case(text, case.id, about)
            assert case_link(case.id).search(text), (member.username, url)
        assert page(client, f"/cases/{case.id}")  # the link leads somewhere they may see
    login(tom)
    for url in urls:
        assert "See case" not in page(client, url), url


def test_a_refused_invite_form_says_why(client, login, open_case_about, ivan, sam):
    case = open_case_about(sam)
    login(ivan)
    response = client.post("/invites", data={"email": "pal@example.com",
                                             "vouch_note": "We built a bakery site together."})
    assert response.status_code == 422
    assert_names_case(response.get_data(as_text=True), case.id, ABOUT_SAM)
    assert count(Invite) == 0


# --- a contested invoice is for an admin to settle, not misconduct -----------------------

def _contested(run_project, performer, referrer, invoiced: int = 200_00) -> tuple[Commission,
                                                                                 Case]:
    """``performer`` completed ``referrer``'s referral under its $400 price (their wallet
    is empty, so the commission is due) and the referrer contested the amount."""
    project = run_project(referrer, performer)
    commission = complete_referral(fresh(Project, project.id), actor=fresh(User, performer.id),
                                   invoiced_minor=invoiced, idempotency_key=key(),
                                   invoice_reason="The client cut the scope.")
    case = contest_invoice(fresh(Commission, commission.id), actor=fresh(User, referrer.id),
                           statement="The client told me they paid the full price.")
    return fresh(Commission, commission.id), fresh(Case, case.id)


@pytest.mark.parametrize("action", ACTIONS)
def test_a_contested_invoice_holds_nobody_but_an_ordinary_case_still_does(
        attempt, action, run_project, open_case_about, ivan, sam, tom):
    attempt.prepare(ivan, sam)
    _, contest = _contested(run_project, sam, tom)
    assert contest.is_open
    for member in (sam, ivan):  # the performer it is about, and their inviter
        assert hook_case(fresh(User, member.id)) is None
        assert why_on_the_hook(fresh(User, member.id), "post gigs") is None
        attempt(action, member)
    attempt.prepare(ivan, sam)
    case = open_case_about(sam)  # misconduct: held, and the reason names this case
    refused(attempt, action, sam, case.id, "about you")
    refused(attempt, action, ivan, case.id, ABOUT_SAM)


def test_a_correction_left_due_goes_the_overdue_way_and_that_case_holds(
        run_project, admin, ivan, sam, tom):
    commission, contest = _contested(run_project, sam, tom)
    assert commission.state == CommissionState.DUE  # sam's wallet is empty
    resolve_case(contest, actor=fresh(User, admin.id), resolution="cleared",
                 reason="The receipt shows $300.", corrected_minor=300_00, password=PASSWORD,
                 idempotency_key=key())
    assert fresh(Commission, commission.id).commission_minor == 30_00
    assert why_on_the_hook(fresh(User, sam.id), "post gigs") is None
    later = utcnow() + timedelta(days=15)  # past the due day
    assert flag_overdue_commissions(now=later) == 1
    assert open_overdue_commission_cases(now=later) == 1
    overdue = db.session.scalar(select(Case.id).where(Case.commission_id == commission.id))
    assert why_on_the_hook(fresh(User, sam.id), "post gigs").case_id == overdue
    assert why_on_the_hook(fresh(User, ivan.id), "post gigs").case_id == overdue


def test_the_hook_is_one_statement_on_the_state_index(make_member, open_case_about, ivan,
                                                      sam):
    open_case_about(sam)
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert hook_case(fresh(User, ivan.id)) is not None
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    (statement, parameters), = [s for s in seen if "FROM cases" in s[0]]
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as conn:
        plan = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                                       parameters)]
    # the open cases by the state index, not every case by the contested one's
    assert any("cases USING INDEX ix_cases_state_created" in p for p in plan), plan
