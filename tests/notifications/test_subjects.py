"""Every notification about a gig names it: walking the main flows (questions, offers,
negotiation, messages, awards, projects, stalling, commissions, reviews, milestones,
disputes, lapsed and taken-back awards, closed offers), each notification row's text
(title and subject) and each notice e-mail's subject line contain the gig's title.
The subject comes from the link in one query."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from offload.accounts.models import User
from offload.commissions.models import Commission
from offload.commissions.services import (
    complete_referral,
    flag_overdue_commissions,
    pay_commission,
    remind_due_commissions,
)
from offload.conversations.services import send_offer_message
from offload.core.db import db, utcnow
from offload.gigs.models import Gig
from offload.gigs.services import answer_question, ask_question, cancel_gig
from offload.milestones import disputes
from offload.milestones import services as ms
from offload.milestones.models import Dispute, Milestone
from offload.notifications.models import Notification, NotificationPreference, OutboxEmail
from offload.notifications.services import notify, render_outbox_email
from offload.notifications.subjects import subject_of
from offload.offers import negotiation
from offload.offers import services as offers
from offload.offers.models import Offer, OfferProposal
from offload.projects.models import Project
from offload.projects.services import flag_stalling_projects, post_project_event
from offload.reviews.services import submit_review
from tests.support.factories import PASSWORD, all_skills, fresh

# kinds about a member or their money, not about a gig
NOT_ABOUT_A_GIG = {"case_opened", "case_resolved", "report_answered", "vouch_moved",
                   "invite_accepted", "withdrawal_paid", "withdrawal_rejected",
                   "keyword_alert"}
_keys = itertools.count(1)


def key() -> str:
    return f"subjects-{next(_keys)}"


def email_everything(*members) -> None:
    """Every kind by e-mail too, so the mails' subjects are checked as well."""
    from offload.notifications.kinds import KINDS

    for m in members:
        db.session.add_all(NotificationPreference(user_id=m.id, kind=k, channel="email")
                           for k in KINDS)
    db.session.commit()


def referral_flow(make_gig, make_offer, make_member, referrer, performer, fund) -> str:
    title = "Django shop rewrite"
    carol, dave = make_member("carol"), make_member("dave")
    email_everything(referrer, performer, carol, dave)
    gig = make_gig(poster=referrer, title=title, skill_names=["Python", "SQL"])
    question = ask_question(gig, actor=carol, body="Which Django version?")
    answer_question(question, actor=referrer, answer="5.0")
    mine = make_offer(fresh(Gig, gig.id), performer)
    carols = make_offer(fresh(Gig, gig.id), carol)
    daves = make_offer(fresh(Gig, gig.id), dave)
    offers.decline_offer(fresh(Offer, daves.id), actor=referrer, reason="Too far off")

    negotiation.propose_terms(fresh(Offer, mine.id), actor=referrer, price_minor=300_00,
                         days_to_deliver=9)
    negotiation.accept_proposal(db.session.scalar(select(OfferProposal)), actor=performer)
    proposal = negotiation.propose_terms(fresh(Offer, mine.id), actor=performer,
                                    price_minor=350_00, days_to_deliver=9)
    countered = negotiation.counter_proposal(fresh(OfferProposal, proposal.id), actor=referrer,
                                        price_minor=320_00, days_to_deliver=9)
    negotiation.decline_proposal(fresh(OfferProposal, countered.id), actor=performer)
    send_offer_message(fresh(Offer, mine.id), actor=referrer, body="When can you start?")
    send_offer_message(fresh(Offer, mine.id), actor=performer, body="Monday.")

    offers.award_offer(fresh(Offer, carols.id), actor=referrer)
    offers.take_back_award(fresh(Offer, carols.id), actor=referrer)
    offers.award_offer(fresh(Offer, carols.id), actor=referrer)
    offers.decline_award(fresh(Offer, carols.id), actor=carol)
    offers.award_offer(fresh(Offer, mine.id), actor=referrer)
    project = offers.accept_award(fresh(Offer, mine.id), actor=performer)

    post_project_event(fresh(Project, project.id), actor=performer, kind="work_started",
                       note="Started on the catalogue")
    flag_stalling_projects(now=utcnow() + timedelta(days=30))
    complete_referral(fresh(Project, project.id), actor=performer, invoiced_minor=1_000_00,
                      idempotency_key=key())  # the performer's wallet is empty: due
    commission = db.session.scalar(select(Commission))
    remind_due_commissions(now=utcnow() + timedelta(days=12))
    flag_overdue_commissions(now=utcnow() + timedelta(days=30))
    fund(performer, 100_00)
    pay_commission(fresh(Commission, commission.id), actor=performer, idempotency_key=key())
    project = fresh(Project, project.id)
    submit_review(project, actor=referrer, stars=5, body="Great.",
                  skill_stars=all_skills(project, 5))
    submit_review(fresh(Project, project.id), actor=performer, stars=5, body="Clear brief.")
    return title


def task_flow(start_project, make_gig, make_offer, make_member, referrer, performer,
              fund) -> str:
    title = "Site redesign"
    fund(performer, 10_00)
    fund(referrer, 1_000_00)
    project = start_project(kind="task", title=title)
    due = utcnow().date() + timedelta(days=5)
    logo = ms.add_milestone(project, actor=referrer, title="Logo", amount_minor=100_00,
                            due_on=due)
    copy = ms.add_milestone(fresh(Project, project.id), actor=referrer, title="Copy",
                            amount_minor=50_00, due_on=due)
    ms.fund_milestone(fresh(Milestone, logo.id), actor=referrer, idempotency_key=key())
    ms.deliver_milestone(fresh(Milestone, logo.id), actor=performer, note="v1")
    ms.ask_for_revision(fresh(Milestone, logo.id), actor=referrer, note="Bigger")
    ms.deliver_milestone(fresh(Milestone, logo.id), actor=performer, note="v2")
    ms.release_milestone(fresh(Milestone, logo.id), actor=referrer)
    ms.fund_milestone(fresh(Milestone, copy.id), actor=referrer, idempotency_key=key())
    dispute = disputes.open_dispute(fresh(Milestone, copy.id), actor=referrer,
                                    statement="Nothing came")
    admin = make_member("judge", admin=True)
    disputes.resolve_dispute(fresh(Dispute, dispute.id), actor=admin, outcome="refund",
                             reason="Not delivered", password=PASSWORD)
    return title


def test_every_notification_in_the_main_flows_names_its_gig(
        start_project, make_gig, make_offer, make_member, referrer, performer, fund):
    titles = [referral_flow(make_gig, make_offer, make_member, referrer, performer, fund),
              task_flow(start_project, make_gig, make_offer, make_member, referrer,
                        performer, fund)]
    # awards lapsing at the deadline, taken back (a suspension), offers closed with a gig
    eve, fay = make_member("eve"), make_member("fay")
    lapsing = make_gig(poster=referrer, title="Mobile app audit",
                       deadline=utcnow().date() + timedelta(days=1))
    offers.award_offer(make_offer(lapsing, eve), actor=referrer)
    offers.lapse_unanswered_awards(today=utcnow().date() + timedelta(days=2))
    taken = make_gig(poster=referrer, title="Payments integration")
    offers.award_offer(make_offer(taken, fay), actor=referrer)
    offers.take_back_awards_on_gigs([taken.id], reason="the poster was suspended")
    cancelled = make_gig(poster=referrer, title="Data migration")
    make_offer(cancelled, eve)
    cancel_gig(fresh(Gig, cancelled.id), actor=referrer, reason="The client went elsewhere")
    titles += ["Mobile app audit", "Payments integration", "Data migration"]

    db.session.rollback()
    rows = list(db.session.scalars(select(Notification).order_by(Notification.id)))
    about_gigs = [n for n in rows if n.kind not in NOT_ABOUT_A_GIG]
    kinds = {n.kind for n in about_gigs}
    assert kinds >= {"question_asked", "question_answered", "new_offer", "offer_declined",
                     "offer_terms", "new_message", "award", "award_taken_back",
                     "award_declined", "award_accepted", "project_event",
                     "stalling_project", "commission_due", "review_received", "milestone"}
    unnamed = [(n.kind, n.title, n.subject) for n in about_gigs
               if not any(t in f"{n.title} {n.subject or ''}" for t in titles)]
    assert unnamed == []
    mails = list(db.session.scalars(select(OutboxEmail).where(
        OutboxEmail.template == "notification")))
    assert len(mails) >= len(about_gigs) - 2  # all of them, give or take a member's defaults
    subjects = [render_outbox_email(m)[0] for m in mails]  # as the worker will send them
    unnamed_mails = [s for s in subjects
                     if not any(t in s for t in titles) and "case" not in s.lower()]
    assert unnamed_mails == []


def test_the_subject_shows_under_a_title_that_doesnt_name_it(client, login, start_project,
                                                             referrer, performer):
    project = start_project(title="Django shop rewrite")
    post_project_event(project, actor=performer, kind="update", note="Halfway")
    n = db.session.scalar(select(Notification).where(Notification.kind == "project_event"))
    assert n.subject == "Django shop rewrite" and n.subject_line == "Django shop rewrite"
    login(referrer)
    page = client.get("/notifications").get_data(as_text=True)
    assert "On “Django shop rewrite”" in page
    # a title that names the gig in quotes isn't followed by it again
    accepted = db.session.scalar(select(Notification).where(
        Notification.kind == "award_accepted"))
    assert "“Django shop rewrite”" in accepted.title and accepted.subject_line is None
    assert page.count("On “Django shop rewrite”") == 1


def test_the_subject_is_one_query_from_the_link(start_project, referrer, count_queries):
    project = start_project(title="Site redesign")
    member = db.session.get(User, referrer.id)
    assert subject_of(f"/projects/{project.id}#milestones") == "Site redesign"
    assert subject_of(f"/offers/{project.offer_id}") == "Site redesign"
    assert subject_of(f"/gigs/{project.gig_id}#question-3") == "Site redesign"
    assert subject_of("/gigs?q=django") is None
    assert subject_of("/cases/3") is None and subject_of(None) is None
    link = f"/projects/{project.id}"
    notify(member, "project_event", title="Warm-up", link="/cases/1")
    with count_queries() as without:
        notify(member, "project_event", title="Something", link="/cases/1")
    with count_queries() as with_subject:
        notify(member, "project_event", title="Something", link=link)
    assert len(with_subject) == len(without) + 1
    n = notify(member, "project_event", title="Told", link=link,
               subject="Given by the caller")
    assert n.subject == "Given by the caller"


@pytest.mark.parametrize("kind", ["case_opened", "vouch_moved"])
def test_notices_about_no_gig_have_no_subject(make_member, kind):
    n = notify(make_member(), kind, title="About you", link="/cases/1")
    assert n.subject is None and n.subject_line is None
