"""A referrer contests an invoiced amount under the agreed price: the commission's review
moves to contested and a case about the performer opens, in one transaction. The admin
who resolves the case may correct the amount (``services.resolve_case`` calls
``offload.commissions.services.settle_contested_invoice``).

The case puts nobody on the hook (``offload.cases.hook``): it opens on the referrer's
statement alone and is a disagreement about money, not a finding of misconduct."""

from __future__ import annotations

import logging

from flask import current_app

from offload.accounts.models import User
from offload.commissions.models import Commission
from offload.commissions.services import record_invoice_contest
from offload.core.db import db, on_commit, transactional
from offload.core.money import format_money
from offload.core.transitions import insert_once
from offload.projects.models import Project

from .models import NOTE_MAX, Case, CaseEvidence, CaseKind, CaseSource, EvidenceKind
from .services import _tell_opened

log = logging.getLogger("offload.cases")


@transactional
def contest_invoice(commission: Commission, *, actor: User, statement: str) -> Case:
    """The referrer contests the invoiced amount within the review window.

    State: the commission's review awaiting → contested; a case (kind other, opened by
    the system) about the performer, which holds nobody (not on the hook); the project
    linked as evidence with both amounts. The summary carries both amounts, the
    performer's reason and the referrer's statement.
    Timeline: an issue raised. Notifies: the performer and their inviter (case_opened).
    Refuses: anyone but the referrer (NotAllowed); a review already settled or past its
    window, a second contest (Conflict); a blank statement (InvalidField "statement").
    """
    statement = record_invoice_contest(commission, actor=actor, statement=statement)
    project = db.session.get(Project, commission.project_id)
    invoiced, agreed = _money(commission.invoiced_minor), _money(project.price_minor)
    summary = (f"{actor.name}, the referrer, contests the amount invoiced on project "
               f"#{project.id}: {invoiced} invoiced against the agreed price of {agreed} "
               f"(commission {_money(commission.commission_minor)}).\n\n"
               f"The performer's reason: {commission.invoice_reason}\n\n"
               f"The referrer's statement: {statement}")
    case = Case(subject_id=commission.payer_id, kind=CaseKind.OTHER, source=CaseSource.SYSTEM,
                opened_by_id=None, summary=summary, contested_commission_id=commission.id)
    # one contest per commission, whatever arrives
    insert_once(case, refused="This invoiced amount is already contested.")
    note = (f"Invoiced {invoiced}, agreed {agreed}. Performer: {commission.invoice_reason} "
            f"Referrer: {statement}")
    db.session.add(CaseEvidence(case_id=case.id, kind=EvidenceKind.PROJECT,
                                target_id=project.id, added_by_id=None,
                                note=note if len(note) <= NOTE_MAX
                                else note[:NOTE_MAX - 1] + "…"))
    db.session.flush()
    _tell_opened(case, db.session.get(User, commission.payer_id))
    on_commit(lambda: log.info("invoice contested", extra={
        "case_id": case.id, "commission_id": commission.id}))
    return case


def _money(minor: int) -> str:
    return format_money(minor, current_app.config["CURRENCY"])
