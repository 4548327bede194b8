"""Deleting an account: each refusal, and what the anonymisation changes and keeps."""

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from offload.accounts.models import BackupCode, PersonalToken, TwoFactor, User
from offload.accounts.services import (
    authenticate,
    create_personal_token,
    request_password_reset,
    resolve_password_resets,
)
from offload.alerts.models import Alert
from offload.alerts.services import save_alert
from offload.cases.invoices import contest_invoice
from offload.commissions.models import Commission, CommissionState
from offload.commissions.queries import commission_of
from offload.commissions.services import accept_invoice, pay_commission
from offload.core.db import atomic, db
from offload.core.errors import Conflict, InvalidField, NotAllowed, OffloadError
from offload.core.uploads import stored_path
from offload.feeds.models import FeedToken
from offload.feeds.services import make_feed_link
from offload.gigs.models import Gig, GigAttachment, GigState
from offload.gigs.services import add_gig_attachment
from offload.invites.models import Invite, InviteState
from offload.invites.services import check_invite_usable, send_invite
from offload.moderation.models import ModerationEntry
from offload.notifications.models import Notification, OutboxEmail
from offload.notifications.queries import recipient_of
from offload.notifications.services import notify, queue_email
from offload.offers.models import Offer, OfferState
from offload.offers.services import accept_award, award_offer
from offload.privacy import policies, services
from offload.privacy.services import delete_account
from offload.profiles import services as profiles
from offload.profiles.models import (
    Document,
    EducationEntry,
    MemberSkill,
    PortfolioItem,
    Profile,
)
from offload.reviews.services import submit_review
from offload.wallet.models import Withdrawal, WithdrawalState
from offload.wallet.queries import WalletSummary
from offload.wallet.services import add_funds, mark_withdrawal_paid
from offload.webhooks.models import WebhookEndpoint
from offload.webhooks.services import create_webhook_endpoint
from tests.support.cases import notes
from tests.support.factories import PASSWORD, count, fresh, new_key, upload
from tests.support.images import image_upload
from tests.support.two_factor import code_for, turn_on_two_factor

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _refused(member, match: str) -> None:
    with pytest.raises(Conflict, match=match):
        delete_account(actor=fresh(User, member.id), password=PASSWORD)
    assert fresh(User, member.id).deleted_at is None


# --- refusals --------------------------------------------------------------------------

def test_money_in_the_wallet_refuses(make_member, fund):
    ada = make_member("ada")
    fund(ada, 25_00)
    _refused(ada, r"Your wallet holds \$25.00\. Withdraw")


def test_money_held_for_a_withdrawal_refuses(make_member, fund, withdraw):
    ada = make_member("ada")
    fund(ada, 25_00)
    withdraw(ada, 25_00)
    _refused(ada, r"\$25.00 of it reserved")


def test_an_open_project_refuses_either_party(start_project, referrer, performer):
    start_project()
    _refused(referrer, "project in progress")
    _refused(performer, "project in progress")


def test_a_commission_due_refuses_payer_and_referrer(completed, referrer, performer):
    project = completed()
    assert commission_of(project.id).state == CommissionState.DUE
    _refused(performer, "commission is still due")
    _refused(referrer, "commission is still due")


@pytest.mark.parametrize("contested", [False, True])
def test_an_invoice_under_review_refuses_performer_and_referrer(
        completed, referrer, performer, fund, contested):
    """Paid, but the referrer may still contest (or has): an admin's correction would
    reverse the payment into the performer's wallet and make a new commission due."""
    commission = commission_of(completed().id)
    fund(performer, commission.commission_minor)
    pay_commission(commission, actor=performer, idempotency_key=new_key())
    if contested:
        contest_invoice(fresh(Commission, commission.id), actor=fresh(User, referrer.id),
                        statement="The scope was not cut.")
    assert fresh(Commission, commission.id).state == CommissionState.PAID
    _refused(performer, "invoiced amount is under review")
    (blocker,) = policies.deletion_blockers(performer.id)
    assert blocker.endpoint == "projects.mine"
    # the referrer's share sits in their wallet too; the review is named as well
    assert "invoiced amount is under review" in policies.deletion_blockers(referrer.id)[-1].reason
    accepted = fresh(Commission, commission.id)
    if not contested:
        accept_invoice(accepted, actor=fresh(User, referrer.id))
        assert policies.deletion_blockers(performer.id) == []


def test_a_debt_refuses(make_member, monkeypatch):
    ada = make_member("ada")
    monkeypatch.setattr(policies, "wallet_summary",
                        lambda member_id: WalletSummary(0, 0, 0, owed=30_00))
    _refused(ada, r"You owe \$30.00")


def test_every_reason_is_listed_with_a_page(make_member, fund, start_project, referrer):
    fund(referrer, 10_00)
    start_project()
    blockers = policies.deletion_blockers(referrer.id)
    assert [b.endpoint for b in blockers] == ["wallet.index", "projects.mine"]


def test_an_admin_is_refused_with_why(make_member):
    root = make_member("root", admin=True)
    with pytest.raises(NotAllowed, match="admin account can't be deleted"):
        delete_account(actor=root, password=PASSWORD)
    assert fresh(User, root.id).deleted_at is None


def test_a_wrong_password_refuses(make_member):
    ada = make_member("ada")
    with pytest.raises(InvalidField, match="password is not correct"):
        delete_account(actor=ada, password="not the password")
    assert fresh(User, ada.id).deleted_at is None


def test_with_two_factor_a_code_is_needed(make_member):
    ada = make_member("ada")
    set_up = turn_on_two_factor(ada)
    with pytest.raises(InvalidField, match="Enter the code"):
        delete_account(actor=fresh(User, ada.id), password=PASSWORD)
    wrong = str((int(code_for(set_up.secret)) + 1) % 1_000_000).zfill(6)
    with pytest.raises(InvalidField, match="not right"):
        delete_account(actor=fresh(User, ada.id), password=PASSWORD, code=wrong)
    assert fresh(User, ada.id).deleted_at is None
    delete_account(actor=fresh(User, ada.id), password=PASSWORD,
                   code=set_up.backup_codes[0])
    assert fresh(User, ada.id).deleted_at is not None
    assert count(TwoFactor, TwoFactor.user_id == ada.id) == 0
    assert count(BackupCode, BackupCode.user_id == ada.id) == 0


def test_a_deleted_account_cant_be_deleted_twice(make_member):
    ada = make_member("ada")
    delete_account(actor=ada, password=PASSWORD)
    with pytest.raises(InvalidField):  # its password is gone
        delete_account(actor=fresh(User, ada.id), password=PASSWORD)


class _Retryable(Exception):
    sqlstate = "40001"  # a serialization failure, as PostgreSQL reports it


def test_a_deletion_that_loses_a_serialization_failure_is_run_again(make_member, monkeypatch):
    ada = make_member("ada")
    attempts = []
    real = services.record_moderation

    def failing_once(**kwargs):
        attempts.append(kwargs["subject_id"])
        if len(attempts) == 1:
            raise OperationalError("UPDATE users ...", {}, _Retryable("could not serialize"))
        return real(**kwargs)

    monkeypatch.setattr(services, "record_moderation", failing_once)
    delete_account(actor=fresh(User, ada.id), password=PASSWORD)
    assert attempts == [ada.id, ada.id]
    assert fresh(User, ada.id).deleted_at is not None
    assert count(ModerationEntry, ModerationEntry.action == "account_deleted") == 1
    assert count(OutboxEmail, OutboxEmail.to_address == "ada@example.com") == 1


# --- the anonymisation -----------------------------------------------------------------

@pytest.fixture
def ada_with_everything(make_member, app):
    root = make_member("root", admin=True)
    ada = make_member("ada", email="Ada@Example.com", inviter=root,
                      display_name="Ada Lovelace", account_type="organization",
                      organization_name="Analytical Ltd", pending_email="ada@new.example")
    db.session.add(Invite(inviter_id=root.id, email="ada@example.com", vouch_note="Known her",
                          token_hash="x" * 64, state="accepted", accepted_user_id=ada.id,
                          expires_at=ada.created_at))
    db.session.commit()
    profiles.save_profile(actor=ada, display_name="Ada Lovelace", headline="Engines",
                          bio="I write programs.", location="London",
                          organization_name="Analytical Ltd", skill_names=["Python"])
    profiles.add_education(actor=ada, school="Home", start_year=1990)
    profiles.add_portfolio_item(actor=ada, title="Notes", url="https://ada.example/notes")
    doc = profiles.upload_document(actor=ada, kind="award", title="Medal",
                                   file_storage=upload(PDF, "medal.pdf"))
    photo = profiles.set_profile_photo(actor=ada, file_storage=image_upload()).photo_version
    create_personal_token(actor=ada, name="script", scopes=["read"], days=30)
    make_feed_link(actor=ada, once_key=new_key())
    create_webhook_endpoint(actor=ada, url="https://ada.example/hook",
                            events=["message.received"])
    save_alert(actor=ada, query_args={"q": "django"}, frequency="daily")
    return fresh(User, ada.id), doc.stored_name, photo, root


def test_anonymises_every_personal_column_and_removes_what_was_theirs(
        ada_with_everything, outbox, app):
    ada, document_file, photo, root = ada_with_everything
    old_token = ada.session_token
    assert stored_path(document_file).exists()
    photo_files = list(stored_path("x").parent.glob(f"{photo}-*"))
    assert photo_files
    delete_account(actor=ada, password=PASSWORD)

    user = fresh(User, ada.id)
    assert user.display_name == f"Deleted member #{ada.id}" == user.name
    assert user.username == f"deleted.{ada.id}"
    assert user.email == f"deleted-{ada.id}@deleted.invalid"
    assert user.pending_email is None and user.organization_name is None
    assert user.account_type == "individual" and user.last_login_at is None
    assert user.session_token != old_token and user.deleted_at is not None
    assert user.invited_by_id == root.id  # the invite tree is kept
    assert "ada" not in user.password_hash and not user.password_hash.startswith("scrypt")
    for model in (Profile, MemberSkill, EducationEntry, PortfolioItem, Document,
                  PersonalToken, FeedToken, WebhookEndpoint, Alert):
        assert count(model, model.user_id == ada.id) == 0, model
    assert not stored_path(document_file).exists()
    assert not any(path.exists() for path in photo_files)
    invite = db.session.scalar(select(Invite).where(Invite.accepted_user_id == ada.id))
    assert invite.email == "" and invite.inviter_id == root.id  # the tree, not the address

    mails = outbox.all()
    assert [(m.template, m.to_address) for m in mails] == [
        ("account_deleted", "ada@example.com")]
    assert "Ada Lovelace" in mails[0].text_body and "deleted" in mails[0].subject
    entry = db.session.scalar(select(ModerationEntry).where(
        ModerationEntry.subject_user_id == ada.id))
    assert (entry.actor_id, entry.action, entry.reason) == (
        ada.id, "account_deleted", "deleted their account")


def test_log_in_is_refused_afterwards(make_member):
    ada = make_member("ada")
    delete_account(actor=ada, password=PASSWORD)
    assert authenticate("ada", PASSWORD) is None
    assert authenticate("ada@example.com", PASSWORD) is None
    assert authenticate(f"deleted.{ada.id}", PASSWORD) is None


def test_ledger_rows_and_reviews_are_kept(completed, referrer, performer, fund, app):
    project = completed()
    commission = commission_of(project.id)
    fund(performer, commission.commission_minor)
    pay_commission(commission, actor=performer, idempotency_key=new_key())
    accept_invoice(fresh(Commission, commission.id), actor=fresh(User, referrer.id))
    submit_review(project, actor=performer, stars=4, body="Clear brief.")
    delete_account(actor=fresh(User, performer.id), password=PASSWORD)
    assert fresh(Commission, commission.id).payer_id == performer.id
    result = app.test_cli_runner().invoke(args=["ledger", "check"])
    assert result.exit_code == 0, result.output


def test_nothing_is_written_or_mailed_to_a_deleted_member(make_member):
    """Whatever still speaks of them (a late money event, a job) tells nobody: a mail to
    the placeholder address would only fail until given up."""
    ada = make_member("ada")
    delete_account(actor=fresh(User, ada.id), password=PASSWORD)
    gone = fresh(User, ada.id)
    with atomic():
        assert notify(gone, "withdrawal_paid", title="Your withdrawal was paid out.",
                      link="/wallet") is None
        assert notify(recipient_of(ada.id, "new_offer"), "new_offer",
                      title="A new offer", link="/wallet") is None
        assert queue_email(gone.email, "password_changed", user=gone, member=gone) is None
    assert count(Notification, Notification.user_id == ada.id) == 0
    assert count(OutboxEmail, OutboxEmail.user_id == ada.id) == 0
    assert count(OutboxEmail, OutboxEmail.to_address == gone.email) == 0


def test_no_reset_mail_for_the_placeholder_address(make_member, outbox):
    ada = make_member("ada")
    delete_account(actor=ada, password=PASSWORD)
    request_password_reset(f"deleted-{ada.id}@deleted.invalid")
    assert resolve_password_resets().queued == 0
    assert [m.template for m in outbox.all()] == ["account_deleted"]


# --- what the member had open closes with the account ----------------------------------

def test_their_gigs_offers_awards_and_invites_close_with_the_account(
        make_member, make_gig, make_offer, outbox):
    """As a suspension closes them (``cases.suspension``): nobody can go on dealing with,
    or accept an award into a project with, a member who can't log in."""
    ada, bob, carl = make_member("ada"), make_member("bob"), make_member("carl")
    own_gig = make_gig(poster=ada).id  # referral gigs: offers without a fee held
    bobs_offer = make_offer(fresh(Gig, own_gig), fresh(User, bob.id)).id
    carls_gig = make_gig(poster=carl).id
    adas_offer = make_offer(fresh(Gig, carls_gig), fresh(User, ada.id)).id
    awarded_gig = make_gig(poster=carl).id
    awarded = make_offer(fresh(Gig, awarded_gig), fresh(User, ada.id)).id
    award_offer(fresh(Offer, awarded), actor=fresh(User, carl.id))
    invite = send_invite(actor=fresh(User, ada.id), email="pal@example.com",
                         vouch_note="We shipped a shop together.").id

    delete_account(actor=fresh(User, ada.id), password=PASSWORD)

    assert fresh(Gig, own_gig).state == GigState.CANCELLED
    assert fresh(Offer, bobs_offer).state == OfferState.DECLINED
    assert [t for t, _ in notes(bob, "offer_declined")] == [
        f"Your offer on “{fresh(Gig, own_gig).title}” was closed: Its poster deleted "
        "their account."]
    assert fresh(Offer, adas_offer).state == OfferState.WITHDRAWN
    # not "the member was suspended": they left
    assert fresh(Offer, adas_offer).closed_reason is None
    assert fresh(Offer, awarded).state == OfferState.AWARD_DECLINED
    assert fresh(Gig, awarded_gig).state == GigState.OPEN
    assert any("can no longer take" in t for t, _ in notes(carl, "award_declined"))
    with pytest.raises(OffloadError):
        accept_award(fresh(Offer, awarded), actor=fresh(User, ada.id))
    assert fresh(Gig, awarded_gig).state == GigState.OPEN
    assert fresh(Invite, invite).state == InviteState.REVOKED
    with pytest.raises(Conflict, match="withdrawn"):
        check_invite_usable(fresh(Invite, invite))


# --- money on its way in or out refuses --------------------------------------------------

def test_a_pending_deposit_refuses(standin, make_member):
    ada = make_member("ada")
    add_funds(actor=ada, amount_minor=25_00, idempotency_key=new_key())  # at Stripe, unpaid
    _refused(ada, r"A deposit of \$25.00 is not settled yet")
    (blocker,) = policies.deletion_blockers(ada.id)
    assert (blocker.endpoint, blocker.label) == ("wallet.index", "Your wallet")


@pytest.mark.parametrize("state", [WithdrawalState.REQUESTED, WithdrawalState.SENDING])
def test_a_withdrawal_not_paid_out_refuses(make_member, fund, withdraw, state):
    ada = make_member("ada")
    fund(ada, 25_00)
    withdrawal = withdraw(ada, 25_00)
    db.session.execute(update(Withdrawal).where(Withdrawal.id == withdrawal.id)
                       .values(state=state, decided_at=None if state == "requested"
                               else withdrawal.created_at))
    db.session.commit()
    reasons = [b.reason for b in policies.deletion_blockers(ada.id)]
    assert any(r.startswith("A withdrawal of $25.00 is not paid out yet") for r in reasons)
    _refused(ada, "Your wallet holds")  # the first reason; the withdrawal's is listed too


def test_a_withdrawal_coming_back_refuses(make_member, fund, withdraw):
    ada = make_member("ada")
    fund(ada, 25_00)
    withdrawal = withdraw(ada, 25_00)
    mark_withdrawal_paid(withdrawal, actor=make_member("root", admin=True),
                         reason="Paid by hand.", password=PASSWORD)
    assert policies.deletion_blockers(ada.id) == []
    # the bank sent the payout back: the money is on its way to the wallet again
    db.session.execute(update(Withdrawal).where(Withdrawal.id == withdrawal.id)
                       .values(state=WithdrawalState.RETURNING))
    db.session.commit()
    reasons = [b.reason for b in policies.deletion_blockers(ada.id)]
    assert any("came back from your bank" in r for r in reasons)


def test_their_drafts_are_blanked_with_their_files(make_member, make_gig):
    """A draft was never seen by anyone: nothing in it is evidence for another member."""
    ada = make_member("ada")
    draft = make_gig(poster=ada, publish=False, title="A plan nobody saw",
                     description="Secret details.")
    attachment = add_gig_attachment(fresh(Gig, draft.id), actor=fresh(User, ada.id),
                                    file_storage=upload(PDF, "plan.pdf"))
    assert stored_path(attachment.stored_name).exists()
    delete_account(actor=fresh(User, ada.id), password=PASSWORD)
    gig = fresh(Gig, draft.id)
    assert (gig.state, gig.title, gig.description, gig.skills_text) == (
        GigState.DRAFT, "(erased)", "", "")
    assert count(GigAttachment, GigAttachment.gig_id == draft.id) == 0
    assert not stored_path(attachment.stored_name).exists()
