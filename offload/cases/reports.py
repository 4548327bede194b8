"""A member's report about another member, and its triage by an admin.

A report waits in the queue (pending) until an admin opens a case from it (accepted:
the case links the report's project) or dismisses it with a reason; either way the
reporter is told, and the admin's action has its moderation entry. One pending report
per reporter and subject: a second one while the first waits adds nothing.
"""

from __future__ import annotations

from sqlalchemy import select, update

from offload.accounts.models import User
from offload.core.db import db, transactional, utcnow
from offload.core.errors import Conflict, Invalid, InvalidField, NotAllowed
from offload.core.text import clean_text
from offload.core.transitions import insert_once, move_row
from offload.moderation.services import record_moderation
from offload.notifications.services import notify
from offload.projects.models import Project

from .models import (
    REASON_MAX,
    REPORT_MAX,
    REPORT_TRANSITIONS,
    Case,
    CaseSource,
    EvidenceKind,
    Report,
    ReportState,
)
from .services import open_case


@transactional
def report_member(*, actor: User, subject: User, body: str,
                  project_id: int | None = None) -> Report:
    """``actor`` reports ``subject`` to the admins, optionally about a project they
    share. Refuses: unconfirmed members, oneself; a project the two don't share
    (InvalidField "project"); a blank or long text; a report still waiting (Conflict).
    """
    if not actor.is_confirmed:
        raise NotAllowed("Confirm your e-mail address before reporting a member.")
    if subject.id == actor.id:
        raise Invalid("You can't report yourself.")
    body = clean_text("body", body, REPORT_MAX, "The report", required=True, multiline=True)
    if project_id is not None:
        project = db.session.get(Project, project_id)
        if project is None or {actor.id, subject.id} != {project.poster_id,
                                                          project.performer_id}:
            raise InvalidField("project", "Choose a project the two of you share.")
    if db.session.scalar(select(Report.id).where(
            Report.reporter_id == actor.id, Report.subject_id == subject.id,
            Report.state == ReportState.PENDING)):
        raise Conflict(f"You reported {subject.name} already; the admins will look at it.")
    report = Report(reporter_id=actor.id, subject_id=subject.id, project_id=project_id,
                    body=body)
    # the unique index settles two reports at once
    insert_once(report, refused=f"You reported {subject.name} already; the admins will look at it.")
    return report


@transactional
def open_case_from_report(report: Report, *, actor: User, kind: str, summary: str) -> Case:
    """An admin takes a report up: a case about its subject (source: report) linking
    the report's project. Writes: the case (with its moderation entry), the report
    accepted. Notifies: the reporter, and the subject and inviter (case_opened)."""
    _take(report, actor, ReportState.ACCEPTED)
    case = open_case(actor=actor, subject=db.session.get(User, report.subject_id), kind=kind,
                     summary=summary, source=CaseSource.REPORT,
                     evidence=[(EvidenceKind.PROJECT, report.project_id)]
                     if report.project_id else ())
    db.session.execute(update(Report).where(Report.id == report.id).values(
        case_id=case.id, handled_reason=case.summary).execution_options(
        synchronize_session=False))
    _tell_reporter(report, f"The admins opened case #{case.id} from your report.")
    return case


@transactional
def dismiss_report(report: Report, *, actor: User, reason: str) -> Report:
    """An admin dismisses a report with a reason the reporter reads. Writes: the
    report dismissed, a moderation-log entry."""
    reason = clean_text("reason", reason, REASON_MAX, "The reason", required=True,
                        multiline=True)
    _take(report, actor, ReportState.DISMISSED, handled_reason=reason)
    record_moderation(actor=actor, action="report_dismissed", subject_type="report",
                      subject_id=report.id, reason=reason,
                      subject_user=db.session.get(User, report.subject_id))
    _tell_reporter(report, f"The admins looked at your report and closed it: {reason}")
    return report


def _take(report: Report, actor: User, to: ReportState, **values) -> None:
    """Move a pending report (guarded: of two admins at once, one does it)."""
    if not actor.is_admin:
        raise NotAllowed("Only admins handle reports.")
    handled = "This report was handled a moment ago. Reload the queue."
    move_row(report, to, REPORT_TRANSITIONS, not_allowed=handled, refused=handled,
             handled_by_id=actor.id, handled_at=utcnow(), **values)
    db.session.refresh(report)


def _tell_reporter(report: Report, title: str) -> None:
    notify(db.session.get(User, report.reporter_id), "report_answered", title=title)

