"""Opening and resolving cases, evidence, and the accountability of admins: every admin
action leaves exactly one moderation entry and a refused one none; two admins at once
give one outcome; the subject and their inviter are told when a case opens and when it
is resolved."""

from __future__ import annotations

import pytest

from offload.accounts.models import User
from offload.cases.invoices import contest_invoice
from offload.cases.models import Case, CaseEvidence, CaseSource, CaseState, EvidenceKind
from offload.cases.services import add_evidence, open_case, resolve_case
from offload.commissions.models import Commission, CommissionState
from offload.commissions.services import complete_referral
from offload.core.db import utcnow
from offload.core.errors import Conflict, InvalidField, NotAllowed
from offload.gigs.models import Gig
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks
from offload.moderation.models import ModerationEntry
from offload.notifications.models import Notification
from offload.offers.models import Offer, OfferState
from offload.projects.models import Project
from tests.support.cases import entries, evidence_of, notes, wallet
from tests.support.factories import PASSWORD, count, fresh

ROUNDS = 4


def outcome_of(case_id: int) -> tuple:
    c = fresh(Case, case_id)
    return c.state, c.resolution, c.resolution_reason, c.resolved_by_id


# --- opening ------------------------------------------------------------------------------

def test_opening_a_case_records_it_with_its_evidence_and_one_entry(
        run_project, open_case_about, admin, sam, tom):
    project = run_project(tom, sam)
    case = open_case_about(sam, kind="dispute_conduct", summary="  Rude to the client.\n",
                           evidence=[("project", project.id), ("gig", project.gig_id)])
    c = fresh(Case, case.id)
    assert (c.subject_id, c.kind, c.state, c.source, c.opened_by_id, c.summary,
            c.commission_id, c.resolution) == (
        sam.id, "dispute_conduct", CaseState.OPEN, CaseSource.ADMIN, admin.id,
        "Rude to the client.", None, None)
    assert evidence_of(case.id) == [(EvidenceKind.PROJECT, project.id),
                                    (EvidenceKind.GIG, project.gig_id)]
    assert entries() == [("case_opened", "case", case.id, admin.id, sam.id,
                          "Rude to the client.")]


@pytest.mark.parametrize("resolution", ["cleared", "warned", "suspended"])
def test_resolving_records_the_outcome_and_one_entry(open_case_about, admin, other_admin,
                                                     sam, resolution):
    case = open_case_about(sam)
    before = utcnow()
    resolve_case(fresh(Case, case.id), actor=other_admin, resolution=resolution,
                 reason="Read the whole conversation.")
    assert outcome_of(case.id) == (CaseState.RESOLVED, resolution,
                                   "Read the whole conversation.", other_admin.id)
    assert before <= fresh(Case, case.id).resolved_at <= utcnow()
    assert entries() == [
        ("case_opened", "case", case.id, admin.id, sam.id, "Missed three agreed deadlines."),
        (f"case_{resolution}", "case", case.id, other_admin.id, sam.id,
         "Read the whole conversation.")]
    assert fresh(User, sam.id).is_suspended == (resolution == "suspended")


def test_refused_openings_leave_no_case_and_no_entry(run_project, admin, sam, tom):
    project = run_project(tom, sam)
    refusals = [
        (NotAllowed, dict(actor=tom)),
        (InvalidField, dict(kind="grudge")),
        (InvalidField, dict(summary=" \n ")),
        (InvalidField, dict(evidence=[("project", project.id + 100)])),
        (InvalidField, dict(evidence=[("project", project.id), ("offer", 9999)])),
        (InvalidField, dict(evidence=[("invoice", project.id)])),
        (Conflict, dict(evidence=[("project", project.id), ("project", project.id)])),
    ]
    for error, override in refusals:
        values = dict(actor=fresh(User, admin.id), subject=fresh(User, sam.id), kind="other",
                      summary="Something to look at.", evidence=())
        values.update(override)
        with pytest.raises(error):
            open_case(**values)
        assert (count(Case), count(CaseEvidence), count(ModerationEntry)) == (0, 0, 0), override
    assert count(Notification, Notification.kind == "case_opened") == 0


def test_evidence_is_added_by_admins_once_each(run_project, open_case_about, admin, sam, tom):
    project = run_project(tom, sam)
    case = open_case_about(sam)
    link = add_evidence(fresh(Case, case.id), actor=fresh(User, admin.id), kind="project",
                        target_id=project.id, note="Where it happened.")
    assert (link.added_by_id, link.note, link.url) == (admin.id, "Where it happened.",
                                                       f"/projects/{project.id}")
    with pytest.raises(Conflict, match=f"already links project #{project.id}"):
        add_evidence(fresh(Case, case.id), actor=fresh(User, admin.id), kind="project",
                     target_id=project.id)
    with pytest.raises(InvalidField, match="There is no dispute #77"):
        add_evidence(fresh(Case, case.id), actor=fresh(User, admin.id), kind="dispute",
                     target_id=77)
    with pytest.raises(NotAllowed):
        add_evidence(fresh(Case, case.id), actor=fresh(User, tom.id), kind="gig",
                     target_id=project.gig_id)
    assert evidence_of(case.id) == [(EvidenceKind.PROJECT, project.id)]


# --- resolving ---------------------------------------------------------------------------

def test_refused_resolutions_change_nothing_and_leave_no_entry(open_case_about, admin, sam,
                                                               tom):
    case = open_case_about(sam)
    refusals = [
        (NotAllowed, dict(actor=tom)),
        (NotAllowed, dict(actor=sam)),
        (InvalidField, dict(resolution="banished")),
        (InvalidField, dict(reason="   ")),
    ]
    for error, override in refusals:
        values = dict(actor=fresh(User, admin.id), resolution="warned", reason="Be kinder.")
        values.update(override)
        with pytest.raises(error):
            resolve_case(fresh(Case, case.id), **values)
        assert outcome_of(case.id) == (CaseState.OPEN, None, None, None)
    assert len(entries()) == 1  # the opening's
    resolve_case(fresh(Case, case.id), actor=fresh(User, admin.id), resolution="warned",
                 reason="Be kinder.")
    with pytest.raises(Conflict, match="already resolved"):
        resolve_case(fresh(Case, case.id), actor=fresh(User, admin.id),
                     resolution="suspended", reason="Changed my mind.")
    assert outcome_of(case.id) == (CaseState.RESOLVED, "warned", "Be kinder.", admin.id)
    assert not fresh(User, sam.id).is_suspended
    assert [e[0] for e in entries()] == ["case_opened", "case_warned"]


def test_a_stale_copy_of_a_resolved_case_does_not_resolve_it_again(open_case_about, admin,
                                                                   other_admin, sam):
    case = open_case_about(sam)
    stale = fresh(Case, case.id)
    resolve_case(fresh(Case, case.id), actor=fresh(User, admin.id), resolution="cleared",
                 reason="Nothing in it.")
    with pytest.raises(Conflict):
        resolve_case(stale, actor=fresh(User, other_admin.id), resolution="suspended",
                     reason="Everything in it.")
    assert outcome_of(case.id)[1] == "cleared"
    assert [e[0] for e in entries()] == ["case_opened", "case_cleared"]


def test_two_admins_resolving_at_once_give_one_resolution(make_member, open_case_about,
                                                          admin, other_admin, race):
    admin_ids = (admin.id, other_admin.id)
    for n in range(ROUNDS):
        subject = make_member(f"subject{n}")
        case_id = open_case_about(subject).id
        outcomes = ("cleared", "suspended") if n % 2 else ("suspended", "cleared")

        def resolve(i, case_id=case_id, outcomes=outcomes):
            return resolve_case(fresh(Case, case_id), actor=fresh(User, admin_ids[i]),
                                resolution=outcomes[i], reason=f"Decided by admin {i}.").id

        results, errors = race(2, resolve)
        assert [type(e) for e in errors] == [Conflict], errors
        assert results == [case_id]
        state, resolution, reason, by = outcome_of(case_id)
        i = outcomes.index(resolution)
        assert (state, reason, by) == (CaseState.RESOLVED, f"Decided by admin {i}.",
                                       admin_ids[i])
        assert [e[0] for e in entries(subject_type="case", subject_id=case_id)] == [
            "case_opened", f"case_{resolution}"]
        assert fresh(User, subject.id).is_suspended == (resolution == "suspended")
        assert len(notes(subject, "case_resolved")) == 1


# --- who is told -------------------------------------------------------------------------

def test_subject_and_inviter_are_told_when_it_opens_and_when_it_is_resolved(
        outbox, open_case_about, admin, gramps, ivan, sam, gina, tom):
    case = open_case_about(sam)
    link = f"/cases/{case.id}"
    assert notes(sam, "case_opened") == [(f"Case #{case.id} was opened about you: other", link)]
    assert notes(ivan, "case_opened") == [
        (f"Case #{case.id} was opened about Sam Subject, whom you invited: other", link)]
    resolve_case(fresh(Case, case.id), actor=fresh(User, admin.id), resolution="warned",
                 reason="Reply to clients within two days.")
    assert notes(sam, "case_resolved") == [
        (f"Case #{case.id} about you is resolved: warned", link)]
    assert notes(ivan, "case_resolved") == [
        (f"Case #{case.id} about Sam Subject, whom you invited, is resolved: warned", link)]
    for member in (gramps, gina, tom, admin):
        assert notes(member, "case_opened") == notes(member, "case_resolved") == []
    # both kinds are mailed too, with the case's link
    for address in ("sam@example.com", "ivan@example.com"):
        mails = outbox.to(address)
        assert len(mails) == 2
        assert all(f"https://offload.example{link}" in outbox.links(m) for m in mails)


def test_a_member_without_an_inviter_is_told_alone(open_case_about, admin, gramps, ivan):
    case = open_case_about(gramps)
    assert len(notes(gramps, "case_opened")) == 1
    assert notes(ivan, "case_opened") == []  # ivan was invited by gramps: not answerable
    assert count(Notification, Notification.kind == "case_opened") == 1
    resolve_case(fresh(Case, case.id), actor=fresh(User, admin.id), resolution="cleared",
                 reason="Fine.")
    assert count(Notification, Notification.kind == "case_resolved") == 1


# --- money: every account locked once, up front -------------------------------------------

def test_a_suspension_that_corrects_a_paid_commission_locks_every_account_up_front(
        app, run_project, make_gig, make_offer, fund, make_member, admin, sam, tom):
    """Correcting the commission and releasing the member's holds touch two sets of
    ledger accounts; taken set by set, a wallet older than the commission's accounts
    (carol's, whose hold the suspension releases) is locked after them: a deadlock
    waiting to happen, refused under LEDGER_STRICT_LOCK_ORDER."""
    assert app.config["LEDGER_STRICT_LOCK_ORDER"]
    carol = make_member("carol", display_name="Carol Coder")
    fund(carol, 10_00)  # her wallet: a lower id than any the commission touches
    fund(sam, 100_00)
    project = run_project(tom, sam)
    commission = complete_referral(fresh(Project, project.id), actor=fresh(User, sam.id),
                                   invoiced_minor=200_00, idempotency_key="complete-1",
                                   invoice_reason="The client cut the scope.")
    assert fresh(Commission, commission.id).state == CommissionState.PAID
    gig = make_gig(poster=fresh(User, sam.id), kind="task")
    offer = make_offer(fresh(Gig, gig.id), fresh(User, carol.id))  # a postpaid hold
    case = contest_invoice(fresh(Commission, commission.id), actor=fresh(User, tom.id),
                           statement="The client told me they paid the full price.")
    assert wallet(carol) == (8_00, 2_00)

    resolve_case(fresh(Case, case.id), actor=fresh(User, admin.id), resolution="suspended",
                 reason="Under-reported the invoice.", corrected_minor=400_00,
                 password=PASSWORD, idempotency_key="resolve-1")

    c = fresh(Commission, commission.id)
    assert (c.state, c.invoiced_minor, c.commission_minor) == (
        CommissionState.PAID, 400_00, 40_00)
    assert fresh(Offer, offer.id).state == OfferState.DECLINED
    assert wallet(carol) == (10_00, 0)
    assert fresh(User, sam.id).suspended_at is not None
    assert run_checks(MONEY_CHECKS) == []
