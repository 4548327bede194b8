"""Members' reports and their triage: one pending per reporter and subject; an admin
opens a case from one (source: report, its project as evidence) or dismisses it with a
reason; either way one moderation entry and the reporter is told; two admins at once
handle it once."""

from __future__ import annotations

import pytest

from offload.accounts.models import User
from offload.cases.hook import why_on_the_hook
from offload.cases.models import Case, CaseSource, EvidenceKind, Report, ReportState
from offload.cases.reports import dismiss_report, open_case_from_report, report_member
from offload.core.db import utcnow
from offload.core.errors import Conflict, Invalid, InvalidField, NotAllowed
from offload.notifications.models import Notification
from tests.support.cases import entries, evidence_of, notes
from tests.support.factories import count, fresh

ROUNDS = 4


def report(reporter, subject, body="Asked me to pay outside Offload.", project_id=None):
    return report_member(actor=fresh(User, reporter.id), subject=fresh(User, subject.id),
                         body=body, project_id=project_id)


def test_a_report_waits_for_the_admins(run_project, sam, tom):
    project = run_project(tom, sam)
    told_before = count(Notification, Notification.user_id == sam.id)
    r = fresh(Report, report(tom, sam, body="  Asked me to pay outside.\n",
                             project_id=project.id).id)
    assert (r.reporter_id, r.subject_id, r.project_id, r.body, r.state, r.case_id) == (
        tom.id, sam.id, project.id, "Asked me to pay outside.", ReportState.PENDING, None)
    assert entries() == []  # a member's report is not an admin action
    assert count(Notification, Notification.kind == "report_answered") == 0
    assert count(Notification, Notification.user_id == sam.id) == told_before  # sam isn't told


def test_report_refusals(make_member, run_project, sam, tom, gina):
    shared = run_project(tom, sam)
    elsewhere = run_project(gina, make_member("zed"))
    cases = [
        (NotAllowed, make_member("shy", confirmed=False), sam, {}),
        (Invalid, tom, tom, {}),
        (InvalidField, tom, sam, {"body": "   "}),
        (InvalidField, tom, sam, {"body": "x" * 4001}),
        (InvalidField, tom, sam, {"project_id": elsewhere.id}),
        (InvalidField, gina, sam, {"project_id": shared.id}),
        (InvalidField, tom, sam, {"project_id": 99999}),
    ]
    for error, reporter, subject, override in cases:
        with pytest.raises(error):
            report(reporter, subject, **override)
    assert count(Report) == 0


def test_one_pending_report_per_reporter_and_subject(admin, sam, tom, gina):
    first = report(tom, sam)
    with pytest.raises(Conflict, match="reported Sam Subject already"):
        report(tom, sam, body="And again.")
    report(gina, sam)  # another reporter
    report(tom, gina)  # another subject
    dismiss_report(fresh(Report, first.id), actor=fresh(User, admin.id), reason="Not enough.")
    report(tom, sam, body="It happened again.")  # the first one is answered
    assert count(Report, Report.state == ReportState.PENDING) == 3


def test_opening_a_case_from_a_report(run_project, admin, ivan, sam, tom):
    project = run_project(tom, sam)
    r = report(tom, sam, project_id=project.id)
    before = utcnow()
    case = open_case_from_report(fresh(Report, r.id), actor=fresh(User, admin.id),
                                 kind="member_report", summary="Payment outside the platform.")
    c = fresh(Case, case.id)
    assert (c.subject_id, c.kind, c.source, c.opened_by_id, c.summary) == (
        sam.id, "member_report", CaseSource.REPORT, admin.id, "Payment outside the platform.")
    assert evidence_of(case.id) == [(EvidenceKind.PROJECT, project.id)]
    handled = fresh(Report, r.id)
    assert (handled.state, handled.case_id, handled.handled_by_id) == (
        ReportState.ACCEPTED, case.id, admin.id)
    assert before <= handled.handled_at <= utcnow()
    assert entries() == [("case_opened", "case", case.id, admin.id, sam.id,
                          "Payment outside the platform.")]
    # the reporter is told; the subject and inviter as for any case, and they are held
    assert notes(tom, "report_answered") == [
        (f"The admins opened case #{case.id} from your report.", None)]
    assert len(notes(sam, "case_opened")) == len(notes(ivan, "case_opened")) == 1
    assert notes(sam, "report_answered") == []
    assert why_on_the_hook(fresh(User, ivan.id), "make offers").case_id == case.id


def test_a_case_from_a_report_without_a_project_has_no_evidence(admin, sam, tom):
    r = report(tom, sam)
    case = open_case_from_report(fresh(Report, r.id), actor=fresh(User, admin.id),
                                 kind="other", summary="Rude in messages.")
    assert evidence_of(case.id) == []


def test_dismissing_a_report(admin, sam, tom):
    r = report(tom, sam)
    dismiss_report(fresh(Report, r.id), actor=fresh(User, admin.id),
                   reason="The messages show nothing against the rules.")
    handled = fresh(Report, r.id)
    assert (handled.state, handled.handled_by_id, handled.handled_reason, handled.case_id) == (
        ReportState.DISMISSED, admin.id, "The messages show nothing against the rules.", None)
    assert entries() == [("report_dismissed", "report", r.id, admin.id, sam.id,
                          "The messages show nothing against the rules.")]
    assert notes(tom, "report_answered") == [
        ("The admins looked at your report and closed it: The messages show nothing against "
         "the rules.", None)]
    db_notes_for_sam = count(Notification, Notification.user_id == sam.id)
    assert db_notes_for_sam == 0  # the subject never learns of a dismissed report
    assert count(Case) == 0


def test_refused_triage_leaves_the_report_pending_and_no_entry(admin, sam, tom):
    r = report(tom, sam)
    refusals = [
        (NotAllowed, lambda: dismiss_report(fresh(Report, r.id), actor=fresh(User, tom.id),
                                            reason="Mine to close.")),
        (InvalidField, lambda: dismiss_report(fresh(Report, r.id), actor=fresh(User, admin.id),
                                              reason="  ")),
        (NotAllowed, lambda: open_case_from_report(fresh(Report, r.id),
                                                   actor=fresh(User, tom.id),
                                                   kind="other", summary="Open it.")),
        (InvalidField, lambda: open_case_from_report(fresh(Report, r.id),
                                                     actor=fresh(User, admin.id),
                                                     kind="other", summary=" ")),
        (InvalidField, lambda: open_case_from_report(fresh(Report, r.id),
                                                     actor=fresh(User, admin.id),
                                                     kind="vendetta", summary="Open it.")),
    ]
    for error, attempt in refusals:
        with pytest.raises(error):
            attempt()
        assert fresh(Report, r.id).state == ReportState.PENDING
        assert (entries(), count(Case), count(Notification)) == ([], 0, 0)


def test_a_handled_report_cannot_be_handled_again(admin, sam, tom):
    r = report(tom, sam)
    dismiss_report(fresh(Report, r.id), actor=fresh(User, admin.id), reason="Nothing there.")
    with pytest.raises(Conflict):
        dismiss_report(fresh(Report, r.id), actor=fresh(User, admin.id), reason="Twice.")
    with pytest.raises(Conflict):
        open_case_from_report(fresh(Report, r.id), actor=fresh(User, admin.id), kind="other",
                              summary="After all.")
    assert [e[0] for e in entries()] == ["report_dismissed"]
    assert count(Case) == 0 and len(notes(tom, "report_answered")) == 1


def test_two_admins_handling_one_report_at_once_handle_it_once(make_member, admin,
                                                               other_admin, tom, race):
    admin_ids = (admin.id, other_admin.id)
    for n in range(ROUNDS):
        subject = make_member(f"subject{n}")
        report_id = report(tom, subject).id

        def handle(i, report_id=report_id, n=n):
            actor = fresh(User, admin_ids[i])
            if i == n % 2:
                return open_case_from_report(fresh(Report, report_id), actor=actor,
                                             kind="member_report", summary="Taken up.").id
            return dismiss_report(fresh(Report, report_id), actor=actor,
                                  reason="Not enough.").id

        results, errors = race(2, handle)
        assert [type(e) for e in errors] == [Conflict], errors
        assert len(results) == 1
        handled = fresh(Report, report_id)
        actions = [e[0] for e in entries(subject_user_id=subject.id)]
        if handled.state == ReportState.ACCEPTED:
            assert actions == ["case_opened"] and handled.case_id is not None
            assert count(Case, Case.subject_id == subject.id) == 1
        else:
            assert handled.state == ReportState.DISMISSED
            assert actions == ["report_dismissed"]
            assert count(Case, Case.subject_id == subject.id) == 0
        assert count(Notification, Notification.user_id == tom.id,
                     Notification.kind == "report_answered") == n + 1


def test_two_reports_at_once_by_the_same_member_make_one(make_member, race):
    reporter_id = make_member("reporter").id
    for n in range(ROUNDS):
        subject_id = make_member(f"subject{n}").id

        def send(i, subject_id=subject_id):
            return report_member(actor=fresh(User, reporter_id),
                                 subject=fresh(User, subject_id),
                                 body=f"The same complaint, sent twice ({i}).").id

        results, errors = race(2, send)
        assert [type(e) for e in errors] == [Conflict], errors
        assert len(results) == 1
        assert count(Report, Report.subject_id == subject_id) == 1
