"""The referrer's review of an invoiced amount under the agreed price: the reason it
needs, accepting, contesting (a case with both amounts), the window lapsing, and an
admin's correction recomputed through the ledger when paid and when due (the new
batch first, so a referrer who spent their share can still be corrected; refused with
nothing moved when neither order is covered); a correction happens once however often
or concurrently it is submitted. Every money test ends with
the full money check."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from offload.accounts.models import User
from offload.accounts.passwords import verify_password
from offload.cases import services as case_services
from offload.cases.hook import hook_case
from offload.cases.invoices import contest_invoice
from offload.cases.models import Case, CaseEvidence, CaseSource, CaseState
from offload.cases.services import PasswordNotConfirmed, resolve_case
from offload.commissions.checks import check_commissions_match_transfers
from offload.commissions.models import Commission, CommissionState, InvoiceReview
from offload.commissions.services import (
    accept_invoice,
    accept_lapsed_invoice_reviews,
    complete_referral,
    settle_contested_invoice,
)
from offload.core.db import db, in_atomic, utcnow
from offload.core.errors import Conflict, Invalid, InvalidField, NotAllowed
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks
from offload.ledger.models import AccountKind, IdempotencyKey, Transfer, TransferKind
from offload.ledger.services import InsufficientFunds, system_account, wallet_account
from offload.moderation.models import ModerationEntry
from offload.projects.models import ProjectEvent
from offload.wallet.services import mark_withdrawal_paid
from tests.support.factories import PASSWORD, fresh

_keys = itertools.count(1)
PRICE = 400_00  # make_offer's price: the project's agreed price


def key() -> str:
    return f"invoice-key-{next(_keys)}"


def balances(*members) -> list[int]:
    db.session.rollback()
    return [wallet_account(m.id).balance for m in members]


def available(*members) -> list[int]:
    db.session.rollback()
    return [wallet_account(m.id).available for m in members]


def revenue() -> int:
    db.session.rollback()
    return system_account(AccountKind.PLATFORM_REVENUE).balance


@pytest.fixture
def admin(make_member):
    return make_member("judge", admin=True)


@pytest.fixture
def under_price(start_project, performer):
    """``under_price(invoiced=200_00)``: a referral project completed under its price
    with a reason; the commission."""

    def complete(invoiced: int = 200_00, reason: str = "The client cut the scope.") -> Commission:
        project = start_project()
        return complete_referral(project, actor=performer, invoiced_minor=invoiced,
                                 idempotency_key=key(), invoice_reason=reason)

    return complete


def test_under_the_price_needs_a_reason_and_changes_nothing_without_one(
        start_project, performer, referrer):
    project = start_project()
    for blank in ("", "   \n "):
        with pytest.raises(InvalidField, match="under the agreed price") as e:
            complete_referral(project, actor=performer, invoiced_minor=399_99,
                              idempotency_key=key(), invoice_reason=blank)
        assert e.value.field == "reason"
    assert db.session.scalar(select(func.count()).select_from(Commission)) == 0
    c = complete_referral(fresh(type(project), project.id), actor=performer,
                          invoiced_minor=399_99, idempotency_key=key(),
                          invoice_reason="  The client paid late fees only.  ")
    c = fresh(Commission, c.id)
    assert (c.review_state, c.invoice_reason) == (InvoiceReview.AWAITING,
                                                   "The client paid late fees only.")
    assert c.review_due_at - utcnow() > timedelta(days=13, hours=23)
    note = db.session.scalar(select(ProjectEvent.note).where(
        ProjectEvent.project_id == project.id, ProjectEvent.kind == "invoiced"))
    assert "Under the agreed price of $400.00 because: The client paid late fees" in note


def test_at_or_above_the_price_there_is_nothing_to_review(start_project, performer):
    c = complete_referral(start_project(), actor=performer, invoiced_minor=PRICE,
                          idempotency_key=key(), invoice_reason="ignored")
    c = fresh(Commission, c.id)
    assert (c.review_state, c.invoice_reason, c.review_due_at) == (InvoiceReview.NONE,
                                                                    None, None)


def test_the_referrer_accepts_once(under_price, referrer, performer):
    c = under_price()
    with pytest.raises(NotAllowed):
        accept_invoice(fresh(Commission, c.id), actor=performer)
    accept_invoice(fresh(Commission, c.id), actor=referrer)
    assert fresh(Commission, c.id).review_state == InvoiceReview.ACCEPTED
    with pytest.raises(Conflict, match="already been reviewed"):
        accept_invoice(fresh(Commission, c.id), actor=referrer)
    with pytest.raises(Conflict, match="already been reviewed"):
        contest_invoice(fresh(Commission, c.id), actor=referrer, statement="Too low.")
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_contesting_opens_a_case_with_both_amounts(under_price, referrer, performer):
    c = under_price(invoiced=250_00)
    with pytest.raises(InvalidField) as e:
        contest_invoice(fresh(Commission, c.id), actor=referrer, statement="  ")
    assert e.value.field == "statement"
    with pytest.raises(NotAllowed):
        contest_invoice(fresh(Commission, c.id), actor=performer, statement="Me?")
    case = contest_invoice(fresh(Commission, c.id), actor=referrer,
                           statement="The client told me they paid the full $400.")
    case = fresh(Case, case.id)
    assert (case.subject_id, case.state, case.source, case.kind,
            case.contested_commission_id, case.commission_id) == (
        performer.id, CaseState.OPEN, CaseSource.SYSTEM, "other", c.id, None)
    for text in ("$250.00 invoiced", "agreed price of $400.00", "The client cut the scope.",
                 "The client told me they paid the full $400."):
        assert text in case.summary
    note = db.session.scalar(select(CaseEvidence.note).where(CaseEvidence.case_id == case.id))
    assert "Invoiced $250.00, agreed $400.00" in note
    assert fresh(Commission, c.id).review_state == InvoiceReview.CONTESTED
    assert fresh(Commission, c.id).contest_statement.startswith("The client told me")
    assert hook_case(fresh(User, performer.id)) is None  # for an admin to settle: no hook
    with pytest.raises(Conflict):
        contest_invoice(fresh(Commission, c.id), actor=referrer, statement="Again.")
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1


def test_after_the_window_it_counts_as_accepted(under_price, referrer):
    c = under_price()
    later = utcnow() + timedelta(days=15)
    assert fresh(Commission, c.id).review_as_of(later) == InvoiceReview.ACCEPTED
    assert accept_lapsed_invoice_reviews(now=utcnow()) == 0  # not yet
    assert accept_lapsed_invoice_reviews(now=later) == 1
    assert accept_lapsed_invoice_reviews(now=later) == 0  # once
    assert fresh(Commission, c.id).review_state == InvoiceReview.ACCEPTED
    with pytest.raises(Conflict):
        contest_invoice(fresh(Commission, c.id), actor=referrer, statement="Late.")


def test_a_lapsed_window_refuses_a_contest_before_the_job_runs(under_price, referrer):
    c = under_price()
    db.session.execute(Commission.__table__.update().where(Commission.id == c.id)
                       .values(review_due_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    with pytest.raises(Conflict, match="window has closed"):
        contest_invoice(fresh(Commission, c.id), actor=referrer, statement="Too late.")


def contest_and_correct(c, referrer, admin, corrected: int | None, **kw):
    case = contest_invoice(fresh(Commission, c.id), actor=referrer, statement="Too low.")
    return contest_and_correct_case(case, admin, corrected, **kw)


def contest_and_correct_case(case, admin, corrected: int | None, **kw):
    kw.setdefault("password", PASSWORD)
    kw.setdefault("idempotency_key", key())
    resolve_case(fresh(Case, case.id), actor=fresh(User, admin.id), resolution="warned",
                 reason="The client's receipt shows $400.", corrected_minor=corrected, **kw)
    return case


def test_correcting_a_paid_commission_reverses_it_and_pays_the_new_one(
        under_price, referrer, performer, admin, fund):
    fund(performer, 100_00)
    c = under_price(invoiced=200_00)  # commission 20.00: 6.00 platform, 14.00 referrer
    assert balances(performer, referrer) == [80_00, 14_00] and revenue() == 6_00
    old_batch = fresh(Commission, c.id).batch_id
    case = contest_and_correct(c, referrer, admin, 400_00)
    c = fresh(Commission, c.id)
    assert (c.state, c.review_state, c.invoiced_minor, c.corrected_from_minor,
            c.commission_minor, c.platform_minor, c.referrer_minor) == (
        CommissionState.PAID, InvoiceReview.CORRECTED, 400_00, 200_00, 40_00, 12_00, 28_00)
    assert c.batch_id != old_batch
    assert balances(performer, referrer) == [60_00, 28_00] and revenue() == 12_00
    reversals = db.session.scalars(select(Transfer).where(
        Transfer.kind == TransferKind.REVERSAL)).all()
    old_legs = db.session.scalars(select(Transfer.id).where(
        Transfer.batch_id == old_batch)).all()
    assert sorted(r.reverses_id for r in reversals) == sorted(old_legs)
    assert fresh(Case, case.id).state == CaseState.RESOLVED
    assert [e.action for e in db.session.scalars(select(ModerationEntry).order_by(
        ModerationEntry.id))] == ["case_warned", "invoice_corrected"]
    assert run_checks(MONEY_CHECKS) == []


def test_a_correction_the_wallet_does_not_cover_falls_due(
        under_price, referrer, performer, admin, fund):
    fund(performer, 20_00)
    c = under_price(invoiced=200_00)  # paid: the performer has nothing left
    contest_and_correct(c, referrer, admin, 400_00)
    c = fresh(Commission, c.id)
    assert (c.state, c.batch_id, c.paid_at, c.commission_minor) == (
        CommissionState.DUE, None, None, 40_00)
    assert c.due_on == utcnow().date() + timedelta(days=14)
    assert balances(performer, referrer) == [20_00, 0] and revenue() == 0  # refunded
    assert run_checks(MONEY_CHECKS) == []


def test_correcting_a_due_commission_changes_what_is_due(
        under_price, referrer, performer, admin):
    c = under_price(invoiced=200_00)
    assert fresh(Commission, c.id).state == CommissionState.DUE
    contest_and_correct(c, referrer, admin, 350_00)
    c = fresh(Commission, c.id)
    assert (c.state, c.invoiced_minor, c.commission_minor, c.review_state) == (
        CommissionState.DUE, 350_00, 35_00, InvoiceReview.CORRECTED)
    assert db.session.scalar(select(func.count()).select_from(Transfer)) == 0
    assert run_checks(MONEY_CHECKS) == []


def test_resolving_without_an_amount_upholds_the_invoice(under_price, referrer, admin, fund,
                                                         performer):
    fund(performer, 50_00)
    c = under_price(invoiced=200_00)
    contest_and_correct(c, referrer, admin, None)
    c = fresh(Commission, c.id)
    assert (c.review_state, c.invoiced_minor, c.corrected_from_minor) == (
        InvoiceReview.UPHELD, 200_00, None)
    assert run_checks(MONEY_CHECKS) == []


def test_bad_corrections_change_nothing(under_price, referrer, admin, performer, fund):
    fund(performer, 50_00)
    c = under_price(invoiced=200_00)
    case = contest_invoice(fresh(Commission, c.id), actor=referrer, statement="Too low.")
    for amount in (0, 200_00, 33):
        with pytest.raises(InvalidField) as e:
            resolve_case(fresh(Case, case.id), actor=admin, resolution="cleared",
                         reason="Checked.", corrected_minor=amount,
                         password=PASSWORD, idempotency_key=key())
        assert e.value.field == "corrected"
    assert fresh(Case, case.id).state == CaseState.OPEN
    assert fresh(Commission, c.id).review_state == InvoiceReview.CONTESTED
    assert db.session.scalar(select(func.count()).select_from(ModerationEntry)) == 0
    assert run_checks(MONEY_CHECKS) == []


def test_a_correction_submitted_twice_corrects_once(under_price, referrer, performer, admin,
                                                    fund):
    fund(performer, 100_00)
    c = under_price(invoiced=200_00)
    case = contest_and_correct(c, referrer, admin, 400_00)
    with pytest.raises(Conflict):
        resolve_case(fresh(Case, case.id), actor=admin, resolution="warned",
                     reason="Again.", corrected_minor=400_00,
                     password=PASSWORD, idempotency_key=key())
    assert balances(performer, referrer) == [60_00, 28_00]
    assert db.session.scalar(select(func.count()).select_from(Transfer).where(
        Transfer.kind == TransferKind.REVERSAL)) == 2
    assert run_checks(MONEY_CHECKS) == []


def test_two_admins_correcting_at_once_correct_once(app, under_price, referrer, performer,
                                                   admin, make_member, fund):
    fund(performer, 100_00)
    c = under_price(invoiced=200_00)
    case = contest_invoice(fresh(Commission, c.id), actor=referrer, statement="Too low.")
    other = make_member("judge2", admin=True)
    admin_ids, case_id = (admin.id, other.id), case.id
    db.session.commit()
    barrier, errors, done = threading.Barrier(2), [], []

    def correct(i):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                resolve_case(db.session.get(Case, case_id),
                             actor=db.session.get(User, admin_ids[i]), resolution="warned",
                             reason=f"Receipt {i}.", corrected_minor=400_00 + i * 100_00,
                             password=PASSWORD, idempotency_key=key())
                done.append(i)
            except Conflict as e:
                errors.append(e)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=correct, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(done) == 1 and len(errors) == 1
    assert db.session.scalar(select(func.count()).select_from(Transfer).where(
        Transfer.kind == TransferKind.REVERSAL)) == 2
    assert run_checks(MONEY_CHECKS) == []


def test_the_check_fails_when_a_corrected_commission_claims_its_old_batch(
        under_price, referrer, performer, admin, fund):
    fund(performer, 100_00)
    c = under_price(invoiced=200_00)
    old_batch = fresh(Commission, c.id).batch_id
    contest_and_correct(c, referrer, admin, 400_00)
    assert check_commissions_match_transfers() == []
    # corrupt (in this transaction, rolled back after): point the commission back at
    # the reversed batch and its old amounts
    db.session.execute(Commission.__table__.update().where(Commission.id == c.id).values(
        batch_id=old_batch, invoiced_minor=200_00, commission_minor=20_00,
        platform_minor=6_00, referrer_minor=14_00))
    db.session.expire_all()
    failures = check_commissions_match_transfers()
    assert failures and failures[0].invariant == 10
    assert "of its current batch is reversed" in failures[0].detail
    # and a reversal on a commission never corrected is caught as well
    db.session.execute(Commission.__table__.update().where(Commission.id == c.id).values(
        corrected_from_minor=None))
    db.session.expire_all()
    assert any("never corrected" in f.detail for f in check_commissions_match_transfers())
    db.session.rollback()


def test_an_upward_correction_after_the_referrer_withdrew_their_share_pays_them_more(
        under_price, referrer, performer, admin, fund, withdraw):
    fund(performer, 100_00)
    fund(referrer, 5_00)  # their own money
    c = under_price(invoiced=200_00)  # commission 20.00: 6.00 platform, 14.00 referrer
    mark_withdrawal_paid(withdraw(referrer, 14_00), actor=admin, reason="Paid out.",
                         password=PASSWORD)  # the whole share has left the site
    assert balances(performer, referrer) == [80_00, 5_00] and revenue() == 6_00
    old_batch = fresh(Commission, c.id).batch_id
    contest_and_correct(c, referrer, admin, 400_00)  # commission 40.00: 12.00 + 28.00
    c = fresh(Commission, c.id)
    assert (c.state, c.invoiced_minor, c.commission_minor, c.platform_minor,
            c.referrer_minor) == (CommissionState.PAID, 400_00, 40_00, 12_00, 28_00)
    # performer 80 - 40 + 20; referrer 5 + 28 - 14; platform 6 + 12 - 6
    assert balances(performer, referrer) == [60_00, 19_00] and revenue() == 12_00
    assert available(performer, referrer) == [60_00, 19_00]
    # the new batch went first: the referrer's old share came back out of the new one
    new_legs = db.session.scalars(select(Transfer.id).where(
        Transfer.batch_id == c.batch_id)).all()
    reversals = db.session.scalars(select(Transfer).where(
        Transfer.kind == TransferKind.REVERSAL)).all()
    assert len(new_legs) == 2 and len(reversals) == 2
    assert max(new_legs) < min(r.id for r in reversals)
    assert sorted(r.reverses_id for r in reversals) == sorted(db.session.scalars(
        select(Transfer.id).where(Transfer.batch_id == old_batch)).all())
    assert run_checks(MONEY_CHECKS) == []


def test_a_downward_correction_after_the_referrer_spent_their_share_takes_the_difference(
        under_price, referrer, performer, admin, fund, withdraw):
    fund(performer, 100_00)
    fund(referrer, 5_00)
    c = under_price(invoiced=300_00)  # commission 30.00: 9.00 platform, 21.00 referrer
    withdraw(referrer, 21_00)  # held for a payout: only their own 5.00 is available
    assert balances(performer, referrer) == [70_00, 26_00] and revenue() == 9_00
    assert available(referrer) == [5_00]
    case = contest_invoice(fresh(Commission, c.id), actor=referrer, statement="Too low.")
    transfers = db.session.scalar(select(func.count()).select_from(Transfer))
    # down to 100.00 the referrer's share drops by 14.00, more than they hold: refused
    with pytest.raises(InsufficientFunds, match=r"referrer's wallet no longer covers the "
                                                r"\$14\.00 by which the referrer's share"):
        resolve_case(fresh(Case, case.id), actor=admin, resolution="warned",
                     reason="Receipt.", corrected_minor=100_00,
                     password=PASSWORD, idempotency_key=key())
    assert fresh(Case, case.id).state == CaseState.OPEN
    c = fresh(Commission, c.id)
    assert (c.review_state, c.invoiced_minor, c.state) == (InvoiceReview.CONTESTED, 300_00,
                                                           CommissionState.PAID)
    assert db.session.scalar(select(func.count()).select_from(Transfer)) == transfers
    assert balances(performer, referrer) == [70_00, 26_00] and revenue() == 9_00
    # down to 250.00 (commission 25.00: 7.50 + 17.50) it drops by 3.50, which they hold
    resolve_case(fresh(Case, case.id), actor=admin, resolution="warned", reason="Receipt.",
                 corrected_minor=250_00, password=PASSWORD, idempotency_key=key())
    c = fresh(Commission, c.id)
    assert (c.state, c.invoiced_minor, c.commission_minor, c.platform_minor,
            c.referrer_minor) == (CommissionState.PAID, 250_00, 25_00, 7_50, 17_50)
    # performer 70 - 25 + 30; referrer 26 + 17.50 - 21 (21 still held); platform 9 + 7.50 - 9
    assert balances(performer, referrer) == [75_00, 22_50] and revenue() == 7_50
    assert available(performer, referrer) == [75_00, 1_50]
    assert run_checks(MONEY_CHECKS) == []


def test_a_correction_neither_order_covers_is_refused_with_nothing_moved(
        under_price, referrer, performer, admin, fund, withdraw):
    fund(performer, 20_00)
    c = under_price(invoiced=200_00)  # the referrer got 14.00; the performer has nothing left
    withdraw(referrer, 10_00)  # and the referrer asked for most of it out
    case = contest_invoice(fresh(Commission, c.id), actor=referrer, statement="Too low.")
    transfers = db.session.scalar(select(func.count()).select_from(Transfer))
    # the performer can't pay the corrected 40.00 first, and the referrer can't pay back
    # the 14.00 first
    with pytest.raises(InsufficientFunds, match=r"performer's wallet doesn't cover the "
                       r"corrected commission of \$40\.00, and the referrer's wallet no "
                       r"longer covers the reversal of the \$14\.00 share"):
        resolve_case(fresh(Case, case.id), actor=admin, resolution="warned",
                     reason="Receipt.", corrected_minor=400_00,
                     password=PASSWORD, idempotency_key=key())
    assert fresh(Case, case.id).state == CaseState.OPEN
    c = fresh(Commission, c.id)
    assert (c.review_state, c.invoiced_minor, c.state) == (InvoiceReview.CONTESTED, 200_00,
                                                           CommissionState.PAID)
    assert db.session.scalar(select(func.count()).select_from(Transfer)) == transfers
    assert db.session.scalar(select(func.count()).select_from(ModerationEntry)) == 0
    assert balances(performer, referrer) == [0, 14_00] and revenue() == 6_00
    assert available(performer, referrer) == [0, 4_00]
    assert run_checks(MONEY_CHECKS) == []


def _make_admin(member) -> None:
    db.session.execute(update(User).where(User.id == member.id).values(is_admin=True))
    db.session.commit()


@pytest.mark.parametrize("side", ["referrer", "performer"])
def test_an_admin_on_either_side_cannot_settle_the_contest(under_price, referrer, performer,
                                                           admin, fund, side):
    fund(performer, 100_00)
    c = under_price(invoiced=200_00)
    case = contest_invoice(fresh(Commission, c.id), actor=referrer, statement="Too low.")
    party = {"referrer": referrer, "performer": performer}[side]
    _make_admin(party)
    transfers = db.session.scalar(select(func.count()).select_from(Transfer))
    with pytest.raises(NotAllowed, match=f"You are the {side} on this commission, so "
                                         "another admin must settle"):
        resolve_case(fresh(Case, case.id), actor=fresh(User, party.id), resolution="cleared",
                     reason="Mine to decide.", corrected_minor=1_000_00)
    with pytest.raises(NotAllowed, match=f"You are the {side}"):  # nor through the back door
        settle_contested_invoice(fresh(Commission, c.id), actor=fresh(User, party.id),
                                 corrected_minor=1_000_00, reason="Mine to decide.")
    db.session.rollback()
    assert fresh(Case, case.id).state == CaseState.OPEN
    c = fresh(Commission, c.id)
    assert (c.review_state, c.invoiced_minor) == (InvoiceReview.CONTESTED, 200_00)
    assert db.session.scalar(select(func.count()).select_from(Transfer)) == transfers
    assert db.session.scalar(select(func.count()).select_from(ModerationEntry)) == 0
    contest_and_correct_case(case, admin, 400_00)  # another admin can
    assert fresh(Commission, c.id).invoiced_minor == 400_00
    assert run_checks(MONEY_CHECKS) == []


def test_settling_a_contest_needs_the_admins_password_checked_outside_the_transaction(
        under_price, referrer, performer, admin, fund, monkeypatch):
    fund(performer, 100_00)
    c = under_price(invoiced=200_00)
    case = contest_invoice(fresh(Commission, c.id), actor=referrer, statement="Too low.")
    transfers = db.session.scalar(select(func.count()).select_from(Transfer))
    for password in (None, "", "not-my-password"):
        with pytest.raises(PasswordNotConfirmed, match="Your password is not correct."):
            contest_and_correct_case(case, admin, 400_00, password=password)
    assert fresh(Case, case.id).state == CaseState.OPEN
    assert fresh(Commission, c.id).review_state == InvoiceReview.CONTESTED
    assert db.session.scalar(select(func.count()).select_from(Transfer)) == transfers
    assert db.session.scalar(select(func.count()).select_from(ModerationEntry)) == 0
    checked_in = []  # a hash must not hold the write lock

    def verify(password_hash, password):
        checked_in.append(in_atomic())
        return verify_password(password_hash, password)

    monkeypatch.setattr(case_services, "verify_password", verify)
    contest_and_correct_case(case, admin, 400_00)
    assert checked_in == [False]
    assert fresh(Commission, c.id).invoiced_minor == 400_00
    assert run_checks(MONEY_CHECKS) == []


def test_a_double_submit_of_a_correction_returns_the_first_outcome(
        under_price, referrer, performer, admin, fund):
    fund(performer, 100_00)
    c = under_price(invoiced=200_00)
    case = contest_invoice(fresh(Commission, c.id), actor=referrer, statement="Too low.")
    with pytest.raises(Invalid, match="missing its one-time key"):
        contest_and_correct_case(case, admin, 400_00, idempotency_key="")
    assert fresh(Case, case.id).state == CaseState.OPEN
    once = key()
    for _ in range(2):  # a double click, or a retry after a lost answer: one effect
        contest_and_correct_case(case, admin, 400_00, idempotency_key=once)
        assert fresh(Case, case.id).state == CaseState.RESOLVED
    c = fresh(Commission, c.id)
    assert (c.invoiced_minor, c.commission_minor, c.state) == (400_00, 40_00,
                                                               CommissionState.PAID)
    assert balances(performer, referrer) == [60_00, 28_00] and revenue() == 12_00
    assert [e.action for e in db.session.scalars(select(ModerationEntry).order_by(
        ModerationEntry.id))] == ["case_warned", "invoice_corrected"]
    stored = db.session.scalar(select(IdempotencyKey).where(
        IdempotencyKey.member_id == admin.id, IdempotencyKey.key == once))
    assert stored.batch_id == c.batch_id  # the corrected commission's new batch
    with pytest.raises(Conflict, match="already used for a different request"):
        contest_and_correct_case(case, admin, 500_00, idempotency_key=once)
    assert fresh(Commission, c.id).invoiced_minor == 400_00
    assert run_checks(MONEY_CHECKS) == []
