"""Opening and resolving accountability cases. Each public function is one transaction.

Admins open and resolve cases with a written reason and a moderation-log entry in the
same transaction; the system opens one case per overdue commission (``flask jobs
run``) and one per deposit taken back that left its member owing (the payment
provider's webhook). The subject and their inviter are told when a case opens and when it is
resolved. Resolution moves the case with an UPDATE guarded by ``open``: of two admins
resolving at once, one wins and the other gets ``Conflict``. Resolving a case that
contests an invoiced amount moves money: the admin's password is checked again before
the transaction opens, and no side of the commission may do it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from flask import current_app
from sqlalchemy import exists, select

from offload.accounts.models import User
from offload.accounts.passwords import verify_password
from offload.commissions.models import Commission, CommissionState
from offload.commissions.policies import why_cannot_settle
from offload.commissions.services import correction_accounts, settle_contested_invoice
from offload.core.db import atomic, db, insert_ignoring_conflicts, on_commit, transactional, utcnow
from offload.core.errors import (
    Invalid,
    InvalidField,
    NotAllowed,
    PasswordNotConfirmed,
    refuse,
)
from offload.core.links import site_path
from offload.core.money import format_money
from offload.core.text import clean_text
from offload.core.transitions import insert_once, move_row
from offload.gigs.models import Gig
from offload.ledger.idempotency import claim_key, record_outcome
from offload.ledger.services import lock_accounts
from offload.milestones.models import Dispute
from offload.moderation.services import record_moderation
from offload.notifications.services import notify
from offload.offers.models import Offer
from offload.projects.lifecycle import lock_project
from offload.projects.models import Project
from offload.wallet.models import Chargeback, Deposit, Withdrawal

from .models import (
    CASE_TRANSITIONS,
    REASON_MAX,
    SUMMARY_MAX,
    Case,
    CaseEvidence,
    CaseKind,
    CaseResolution,
    CaseSource,
    CaseState,
    EvidenceKind,
)
from .suspension import lock_suspension_gigs, suspend_member

log = logging.getLogger("offload.cases")


EVIDENCE_MODELS = {EvidenceKind.PROJECT: Project, EvidenceKind.OFFER: Offer,
                   EvidenceKind.DISPUTE: Dispute, EvidenceKind.GIG: Gig,
                   EvidenceKind.DEPOSIT: Deposit}


@transactional
def open_case(*, actor: User, subject: User, kind: str, summary: str,
              evidence: Iterable[tuple[str, int]] = (), source: CaseSource = CaseSource.ADMIN
              ) -> Case:
    """An admin opens a case about ``subject``: from now on the subject and their
    inviter are on the hook (``offload.cases.hook``).

    Writes: the case, its evidence links (each must exist), a moderation-log entry with
    the summary as its reason. Notifies: the subject and their inviter (case_opened).
    Refuses: non-admins (NotAllowed); a case about oneself; an unknown kind, a blank
    summary, evidence that doesn't exist (InvalidField).
    """
    _require_admin(actor)
    if subject.id == actor.id:
        raise Invalid("Another admin should open a case about you.")
    if kind not in {k.value for k in CaseKind}:
        raise InvalidField("kind", "Choose what kind of case this is.")
    summary = clean_text("summary", summary, SUMMARY_MAX, "The summary", required=True,
                         multiline=True)
    case = Case(subject_id=subject.id, kind=kind, source=source, opened_by_id=actor.id,
                summary=summary)
    db.session.add(case)
    db.session.flush()
    for evidence_kind, target_id in evidence:  # part of this one action: one entry
        _link(case, actor, evidence_kind, target_id)
    record_moderation(actor=actor, action="case_opened", subject_type="case",
                      subject_id=case.id, reason=summary, subject_user=subject)
    _tell_opened(case, subject)
    return case


@transactional
def add_evidence(case: Case, *, actor: User, kind: str, target_id: int,
                 note: str = "") -> CaseEvidence:
    """An admin links a project, offer (its conversation), dispute, gig or deposit to a case.
    Writes: the link and a moderation-log entry (its note, or what was linked, as the
    reason). Refuses: non-admins; something that doesn't exist (InvalidField
    "evidence"); a link the case already has (Conflict)."""
    _require_admin(actor)
    evidence = _link(case, actor, kind, target_id, note)
    record_moderation(actor=actor, action="case_evidence_added", subject_type="case",
                      subject_id=case.id, reason=evidence.note or f"Linked {kind} #{target_id}.",
                      subject_user=db.session.get(User, case.subject_id))
    return evidence


def _link(case: Case, actor: User, kind: str, target_id: int, note: str = "") -> CaseEvidence:
    try:
        model = EVIDENCE_MODELS[EvidenceKind(kind)]
    except ValueError:
        raise InvalidField("evidence",
                           "Choose a project, offer, dispute, gig or deposit.") from None
    if db.session.get(model, target_id) is None:
        raise InvalidField("evidence", f"There is no {kind} #{target_id}.")
    note = clean_text("note", note, 500, "The note")
    evidence = CaseEvidence(case_id=case.id, kind=kind, target_id=target_id, note=note,
                            added_by_id=actor.id)
    # the unique index settles a double submit
    insert_once(evidence, refused=f"The case already links {kind} #{target_id}.")
    return evidence


def resolve_case(case: Case, *, actor: User, resolution: str, reason: str,
                 corrected_minor: int | None = None, password: str | None = None,
                 idempotency_key: str | None = None) -> Case:
    """An admin closes an open case: cleared, warned or suspended, with a reason the
    subject and their inviter read. The hook comes off with it.

    Writes: the resolution (guarded by ``open``), a moderation-log entry. A case that
    contests an invoiced amount settles it too, with the same reason
    (``settle_contested_invoice``: kept, or ``corrected_minor`` and the commission
    recomputed through the ledger; a second moderation-log entry for a correction).
    That is an admin money action: it needs the admin's ``password`` again, checked
    before the transaction opens (a hash must not hold the write lock), and an
    ``idempotency_key``.
    Notifies: the subject and their inviter (case_resolved).
    Idempotent: the same key again (required on a case that contests an invoice,
    optional on others) returns the case as the first request left it.
    Refuses: non-admins, and on a case that contests an invoice an admin who is the
    commission's referrer or performer (NotAllowed) or a wrong password
    (PasswordNotConfirmed); an unknown resolution or a blank reason (InvalidField); a
    corrected amount on a case that contests no invoice (InvalidField "corrected"); a
    missing key on a contest (Invalid), a key used for another request (Conflict); a
    case already resolved (Conflict).
    """
    _require_admin(actor)
    if case.contested_commission_id is not None:
        # a side of the money does not settle it (settle_contested_invoice asks again)
        refuse(why_cannot_settle(db.session.get(Commission, case.contested_commission_id),
                                 actor), actor_may=False)
        if not verify_password(actor.password_hash, password or ""):
            log.warning("admin re-authentication failed", extra={"user_id": actor.id,
                                                                  "case_id": case.id})
            raise PasswordNotConfirmed("Your password is not correct.")
    return _resolve_case(case, actor=actor, resolution=resolution, reason=reason,
                         corrected_minor=corrected_minor, idempotency_key=idempotency_key)


@transactional
def _resolve_case(case: Case, *, actor: User, resolution: str, reason: str,
                  corrected_minor: int | None, idempotency_key: str | None) -> Case:
    contested = (db.session.get(Commission, case.contested_commission_id)
                 if case.contested_commission_id is not None else None)
    if corrected_minor is not None and case.contested_commission_id is None:
        raise InvalidField("corrected", "Only a case that contests an invoiced amount can "
                                        "correct it.")
    if resolution not in {r.value for r in CaseResolution}:
        raise InvalidField("resolution", "Choose how the case ends.")
    reason = clean_text("reason", reason, REASON_MAX, "The reason", required=True,
                        multiline=True)
    keyed = contested is not None or bool(idempotency_key)  # a contest can't go without
    if keyed and claim_key(actor.id, idempotency_key or "", {
            "op": "resolve_case", "case": case.id, "resolution": resolution,
            "reason": reason, "corrected": corrected_minor}) is not None:
        db.session.refresh(case)  # a double submit: the first one resolved it
        return case
    now = utcnow()
    move_row(case, CaseState.RESOLVED, CASE_TRANSITIONS,
             not_allowed="This case is already resolved.",
             refused="This case was resolved a moment ago by someone else. Reload it.",
             resolution=resolution, resolution_reason=reason, resolved_by_id=actor.id,
             resolved_at=now)
    db.session.refresh(case)
    subject = db.session.get(User, case.subject_id)
    _lock_what_it_moves(subject, contested, correcting=corrected_minor is not None,
                        suspending=resolution == CaseResolution.SUSPENDED)
    record_moderation(actor=actor, action=f"case_{resolution}", subject_type="case",
                      subject_id=case.id, reason=reason, subject_user=subject)
    if contested is not None:
        settle_contested_invoice(contested, actor=actor, corrected_minor=corrected_minor,
                                 reason=reason)
        if corrected_minor is not None:
            record_moderation(actor=actor, action="invoice_corrected",
                              subject_type="commission", subject_id=contested.id,
                              reason=reason, subject_user=subject)
    if resolution == CaseResolution.SUSPENDED:
        suspend_member(subject, actor=actor, case=case)
    for member, whose in _subject_and_inviter(subject):
        whose = whose if whose == "you" else f"{whose},"  # "about Sam, whom you invited, is"
        notify(member, "case_resolved", title=f"Case #{case.id} about {whose} is resolved: "
                                              f"{resolution}",
               link=site_path("cases.show", case_id=case.id))
    if keyed:  # a correction the ledger paid names its new batch
        batch_id = (contested.batch_id if corrected_minor is not None
                    and contested.state == CommissionState.PAID else None)
        record_outcome(actor.id, idempotency_key, {"case_id": case.id}, batch_id)
    _log_after_commit("case resolved", case_id=case.id, resolution=resolution,
                      actor_id=actor.id)
    return case


def _lock_what_it_moves(subject: User, contested: Commission | None, *, correcting: bool,
                        suspending: bool) -> None:
    """Lock up front, in one ascending order, every ledger account the resolution
    touches: the commission it corrects and the holds a suspension releases. Taken
    step by step, the correction would hold the commission's accounts and the
    suspension then reach for a wallet with a lower id, while an offer holding that
    wallet waits for revenue: a deadlock. The project and the gigs first, as the
    commission and offer services lock them before the ledger: a contested invoice's
    project is locked whether or not its amount is corrected, since settling it locks
    the project anyway."""
    accounts: set[int] = set()
    if contested is not None:
        lock_project(db.session.get(Project, contested.project_id))
        db.session.refresh(contested)  # paid or not, as the lock left it
        if correcting:
            accounts |= correction_accounts(contested)
    if suspending:
        accounts |= lock_suspension_gigs(subject)
    lock_accounts(accounts)


def open_overdue_commission_cases(*, now: datetime | None = None) -> int:
    """The job: one case per overdue commission that has none yet, opened by the
    system about the performer who owes it; how many were opened.

    ``commissions_id`` is unique on cases and the INSERT ignores conflicts, so two runs
    at the same moment open each case once.
    """
    now = now or utcnow()
    opened = 0
    with atomic():
        overdue = db.session.execute(
            select(Commission.id, Commission.payer_id, Commission.project_id,
                   Commission.commission_minor, Commission.due_on)
            .where(Commission.state == CommissionState.DUE, Commission.overdue_at.is_not(None),
                   ~exists().where(Case.commission_id == Commission.id))
            .order_by(Commission.id)).all()
        for c in overdue:
            summary = (f"The {_money(c.commission_minor)} commission on project #{c.project_id}"
                       f" was due on {c.due_on.isoformat()} and is unpaid.")
            case_id = db.session.scalar(
                insert_ignoring_conflicts(Case).values(
                    subject_id=c.payer_id, kind=CaseKind.UNPAID_COMMISSION,
                    state=CaseState.OPEN, source=CaseSource.SYSTEM, summary=summary,
                    commission_id=c.id, created_at=now).returning(Case.id))
            if case_id is None:  # another run opened it first
                continue
            db.session.add(CaseEvidence(case_id=case_id, kind=EvidenceKind.PROJECT,
                                        target_id=c.project_id, created_at=now,
                                        note="The project whose commission is unpaid."))
            db.session.flush()
            _tell_opened(db.session.get(Case, case_id), db.session.get(User, c.payer_id))
            opened += 1
        if opened:
            _log_after_commit("commission cases opened", count=opened)
    return opened


@transactional
def open_chargeback_case(chargeback: Chargeback) -> Case | None:
    """The system opens a case about the member a deposit was taken back from, when
    their wallet didn't cover it and they now owe the rest: they and their inviter are on
    the hook, as for an overdue commission.

    Writes: the case (its summary says what was taken back and what is owed), the
    deposit as its evidence. Notifies: the subject and their inviter (case_opened).
    Changes nothing (returns None): a chargeback the wallet covered, or one that has a
    case already (``chargeback_id`` is unique).
    """
    if chargeback.debt_minor <= 0:
        return None
    why = "disputed by the card holder" if chargeback.kind == "dispute" else "refunded"
    summary = (f"Deposit #{chargeback.deposit_id} was {why}: {_money(chargeback.amount_minor)}"
               f" was taken back ({chargeback.provider} {chargeback.provider_reference}). The"
               f" wallet covered {_money(chargeback.covered_minor)}; the member owes the other"
               f" {_money(chargeback.debt_minor)}.")
    case_id = db.session.scalar(insert_ignoring_conflicts(Case).values(
        subject_id=chargeback.member_id, kind=CaseKind.CHARGEBACK, state=CaseState.OPEN,
        source=CaseSource.SYSTEM, summary=summary, chargeback_id=chargeback.id)
        .returning(Case.id))
    if case_id is None:
        return None
    db.session.add(CaseEvidence(case_id=case_id, kind=EvidenceKind.DEPOSIT,
                                target_id=chargeback.deposit_id,
                                note=f"The deposit taken back ({chargeback.kind})."))
    db.session.flush()
    case = db.session.get(Case, case_id)
    _tell_opened(case, db.session.get(User, chargeback.member_id))
    return case


def _open_unclaimed_case(subject_id: int, summary: str,
                         evidence: tuple[EvidenceKind, int, str] | None = None) -> Case:
    """A system case for the admins about money of a member who deleted their account
    (no one is told: the subject can't log in, their inviter isn't answerable)."""
    case = Case(subject_id=subject_id, kind=CaseKind.OTHER, state=CaseState.OPEN,
                source=CaseSource.SYSTEM, summary=summary)
    db.session.add(case)
    db.session.flush()
    if evidence is not None:
        kind, target_id, note = evidence
        db.session.add(CaseEvidence(case_id=case.id, kind=kind, target_id=target_id,
                                    note=note))
        db.session.flush()
    _log_after_commit("case opened", case_id=case.id, subject_id=subject_id,
                      source=case.source)
    return case


@transactional
def open_returned_withdrawal_case(withdrawal: Withdrawal) -> Case:
    """The system opens a case for the admins about a paid withdrawal that came back
    after its member deleted their account: ``wallet.services.return_withdrawal`` put the
    money in the unclaimed account, not the wallet. The admin sends it on (to the payout
    account it was paid to, kept in the ledger's references, or as the member asks
    through support) and resolves the case saying so.

    Writes: the case (kind "other"), its summary naming the withdrawal, the amount, the
    Transfer and where the money is. Notifies nobody (as ``open_unclaimed_deposit_case``).
    """
    return _open_unclaimed_case(withdrawal.member_id, (
        f"Withdrawal #{withdrawal.id} of {_money(withdrawal.amount_minor)} was paid "
        f"(Stripe transfer {withdrawal.transfer_reference}) and came back after its "
        "member deleted their account. The money is in the ledger's unclaimed account, "
        "not their wallet: send it on to them (their payout account is kept), then "
        "resolve this case saying so."))


@transactional
def open_deleted_chargeback_case(chargeback: Chargeback, amount_minor: int) -> Case:
    """The system opens a case for the admins about a dispute or refund of a deposit of a
    member who deleted their account (``wallet.services``: ``take_back_deposit`` took
    nothing from them, ``return_chargeback`` set the money aside).

    Taken: the provider took ``amount_minor`` from the platform's balance, which no
    member owes (nobody is on the hook): the admin contests it at the provider if they
    can and resolves the case. Returned: ``amount_minor`` is in the ledger's unclaimed
    account (0: the taking was never charged to the member, so nothing moves) for the
    admin to send on or settle.
    Writes: the case (kind "other"), the deposit as its evidence. Notifies nobody.
    """
    what = ("disputed by the card holder" if chargeback.kind == "dispute" else "refunded")
    deposit = f"deposit #{chargeback.deposit_id}"
    reference = f"({chargeback.provider} {chargeback.provider_reference})"
    if chargeback.state == "taken":
        summary = (f"The {deposit} was {what} {reference} after its member deleted their "
                   f"account: {_money(amount_minor)} was taken back from the platform's "
                   "balance. It was not charged to the deleted account (nobody can pay a "
                   "debt there), so no one owes it: contest it at the provider if you can, "
                   "then resolve this case saying how it ended.")
    elif amount_minor:
        summary = (f"What was taken back of {deposit} {reference} came back after its "
                   f"member deleted their account: {_money(amount_minor)} is in the "
                   "ledger's unclaimed account, not their wallet. Send it on, then resolve "
                   "this case saying so.")
    else:
        summary = (f"What was taken back of {deposit} {reference} came back after its "
                   "member deleted their account. It was never charged to them, so "
                   "nothing moved in the ledger: resolve this case.")
    return _open_unclaimed_case(chargeback.member_id, summary,
                                (EvidenceKind.DEPOSIT, chargeback.deposit_id,
                                 f"Taken back ({chargeback.kind}), after the deletion."))


@transactional
def open_unclaimed_deposit_case(deposit: Deposit) -> Case:
    """The system opens a case for the admins about a deposit paid at the provider after
    its member deleted their account: the wallet refused to credit it
    (``wallet.services.settle_deposit``), so the money waits at the provider for an
    admin to refund it there, and to resolve the case saying so.

    Writes: the case (kind "other"; its summary says what was paid and by which
    payment), the deposit as its evidence. Notifies nobody: the subject can't log in,
    and their inviter isn't answerable for money paid in; the admins' queue lists it.
    """
    summary = (f"Deposit #{deposit.id} of {_money(deposit.amount_minor)} was paid "
               f"({deposit.provider} {deposit.payment_reference or deposit.provider_reference})"
               " after its member deleted their account, so it was not credited: the "
               "money is at the provider, not in the ledger. Refund it there (the "
               "member's old e-mail address is gone; the provider knows who paid), then "
               "resolve this case saying so.")
    return _open_unclaimed_case(deposit.member_id, summary,
                                (EvidenceKind.DEPOSIT, deposit.id, "Paid, not credited."))


def _tell_opened(case: Case, subject: User) -> None:
    for member, whose in _subject_and_inviter(subject):
        notify(member, "case_opened", title=f"Case #{case.id} was opened about {whose}: "
                                            f"{CaseKind(case.kind).label.lower()}",
               link=site_path("cases.show", case_id=case.id))
    _log_after_commit("case opened", case_id=case.id, subject_id=subject.id,
                      source=case.source)


def _subject_and_inviter(subject: User) -> list[tuple[User, str]]:
    """Who is told about a case: the subject ("you") and their inviter, if any."""
    told = [(subject, "you")]
    if subject.invited_by_id is not None:
        told.append((db.session.get(User, subject.invited_by_id),
                     f"{subject.name}, whom you invited"))
    return told


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise NotAllowed("Only admins handle cases.")


def _money(minor: int) -> str:
    return format_money(minor, current_app.config["CURRENCY"])


def _log_after_commit(message: str, **extra) -> None:
    on_commit(lambda: log.info(message, extra=extra))
