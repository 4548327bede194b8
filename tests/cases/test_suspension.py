"""Suspension, a case's resolution: sessions end and log-in is refused; the member's
open offers are withdrawn (postpaid holds voided), an award waiting on them is turned
down and its gig reopens; their open gigs are cancelled (an unanswered award taken back
first) with the offers on them declined and holds released; pending invites revoked;
running projects linked to the case. Lifting it lets them log in again, one moderation
entry; what the suspension closed stays closed. The ledger check runs after each test.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from offload.accounts.models import User
from offload.accounts.services import change_password
from offload.cases.models import Case, EvidenceKind
from offload.cases.services import resolve_case
from offload.cases.suspension import lift_suspension
from offload.core.db import atomic, db
from offload.core.errors import Conflict, Invalid, NotAllowed
from offload.gigs.models import Gig, GigState
from offload.invites.models import Invite, InviteState
from offload.invites.services import send_invite
from offload.notifications.services import notify
from offload.offers.models import Offer, OfferState
from offload.offers.services import award_offer, shortlist_offer
from offload.projects.models import Project, ProjectState
from offload.wallet.queries import platform_revenue
from offload.webhooks.models import WebhookDelivery, WebhookEndpoint
from offload.webhooks.services import create_webhook_endpoint, enable_webhook_endpoint
from tests.support.cases import entries, evidence_of, notes, wallet
from tests.support.factories import PASSWORD, fresh

SUSPENDED = "This account is suspended"


def log_in(client, user, password=PASSWORD):
    return client.post("/login", data={"login": user.username, "password": password,
                                       "remember": "y"})


@pytest.fixture
def carol(make_member, fund):
    member = make_member("carol", display_name="Carol Coder")
    fund(member, 10_00)
    return member


@pytest.fixture
def dave(make_member, fund):
    member = make_member("dave", display_name="Dave Dev")
    fund(member, 10_00)
    return member


@pytest.fixture
def scene(make_gig, make_offer, run_project, fund, sam, tom, carol, dave):
    """Sam with one of everything a suspension closes (and two running projects)."""
    fund(sam, 10_00)
    s = SimpleNamespace()
    # sam's offers on tom's task gigs: postpaid (2.00 held), prepaid (1.00 charged),
    # shortlisted postpaid (2.00 held), awarded postpaid waiting for sam (2.00 held)
    s.open_gig = make_gig(poster=tom, kind="task").id
    s.open_offer = make_offer(fresh(Gig, s.open_gig), fresh(User, sam.id)).id
    s.prepaid_gig = make_gig(poster=tom, kind="task").id
    s.prepaid_offer = make_offer(fresh(Gig, s.prepaid_gig), fresh(User, sam.id),
                                 fee_kind="prepaid").id
    s.listed_gig = make_gig(poster=tom, kind="task").id
    s.listed_offer = make_offer(fresh(Gig, s.listed_gig), fresh(User, sam.id)).id
    shortlist_offer(fresh(Offer, s.listed_offer), actor=fresh(User, tom.id))
    s.awarded_gig = make_gig(poster=tom, kind="task").id
    s.awarded_offer = make_offer(fresh(Gig, s.awarded_gig), fresh(User, sam.id)).id
    award_offer(fresh(Offer, s.awarded_offer), actor=fresh(User, tom.id))
    # sam's own gigs: one open with carol's offer, one awarded to dave (unanswered), a draft
    s.own_gig = make_gig(poster=sam, kind="task").id
    s.carol_offer = make_offer(fresh(Gig, s.own_gig), fresh(User, carol.id)).id
    s.own_awarded_gig = make_gig(poster=sam, kind="task").id
    s.dave_offer = make_offer(fresh(Gig, s.own_awarded_gig), fresh(User, dave.id)).id
    award_offer(fresh(Offer, s.dave_offer), actor=fresh(User, sam.id))
    s.draft = make_gig(poster=sam, publish=False).id
    s.invite = send_invite(actor=fresh(User, sam.id), email="pal@example.com",
                           vouch_note="We shipped a shop together.").id
    # running projects: sam performs tom's referral, carol performs sam's
    s.performing = run_project(tom, sam).id
    s.posting = run_project(sam, carol).id
    return s


def suspend(case, admin, reason="Took a client's deposit and vanished."):
    return resolve_case(fresh(Case, case.id), actor=fresh(User, admin.id),
                        resolution="suspended", reason=reason)


def state(model, id_) -> str:
    return fresh(model, id_).state


def test_suspension_closes_what_the_member_had_open(app, scene, open_case_about, admin, sam,
                                                    tom, carol, dave):
    s = scene
    assert wallet(sam) == (10_00 - 1_00 - 3 * 2_00, 3 * 2_00)
    assert wallet(carol) == wallet(dave) == (8_00, 2_00)
    revenue_before = platform_revenue()
    token_before = fresh(User, sam.id).session_token
    case = open_case_about(sam)
    suspend(case, admin)

    member = fresh(User, sam.id)
    assert member.is_suspended and member.session_token != token_before
    # sam's own offers: withdrawn; the award waiting on sam turned down, the gig open again
    for offer_id in (s.open_offer, s.prepaid_offer, s.listed_offer):
        assert state(Offer, offer_id) == OfferState.WITHDRAWN
    assert state(Offer, s.awarded_offer) == OfferState.AWARD_DECLINED
    assert state(Gig, s.awarded_gig) == GigState.OPEN
    assert state(Gig, s.open_gig) == state(Gig, s.listed_gig) == GigState.OPEN
    assert any("can no longer take" in t for t, _ in notes(tom, "award_declined"))
    # every postpaid hold released, the prepaid fee kept (it was charged when sent)
    assert wallet(sam) == (9_00, 0)
    assert platform_revenue() == revenue_before
    # sam's gigs on the board cancelled, the offers on them declined and holds released
    assert state(Gig, s.own_gig) == state(Gig, s.own_awarded_gig) == GigState.CANCELLED
    assert state(Offer, s.carol_offer) == state(Offer, s.dave_offer) == OfferState.DECLINED
    assert wallet(carol) == wallet(dave) == (10_00, 0)
    assert len(notes(dave, "award_taken_back")) == 1
    assert state(Gig, s.draft) == GigState.DRAFT  # a draft stays theirs
    assert state(Invite, s.invite) == InviteState.REVOKED
    # the running projects go on, linked to the case for the admins
    assert state(Project, s.performing) == state(Project, s.posting) == ProjectState.ACTIVE
    assert sorted(evidence_of(case.id)) == sorted([(EvidenceKind.PROJECT, s.performing),
                                                   (EvidenceKind.PROJECT, s.posting)])
    # one moderation entry: the resolution's
    assert entries(subject_user_id=sam.id) == [
        ("case_opened", "case", case.id, admin.id, sam.id, "Missed three agreed deadlines."),
        ("case_suspended", "case", case.id, admin.id, sam.id,
         "Took a client's deposit and vanished.")]


def test_suspension_ends_sessions_and_refuses_log_in_until_lifted(app, open_case_about,
                                                                  admin, sam):
    browser = app.test_client()
    assert log_in(browser, sam).status_code == 302
    assert browser.get("/dashboard").status_code == 200
    suspend(open_case_about(sam), admin)

    response = browser.get("/dashboard")  # the next request is logged out
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    other = app.test_client()
    refused = log_in(other, sam)
    assert refused.status_code == 422
    assert SUSPENDED in refused.get_data(as_text=True)
    assert other.get("/dashboard").status_code == 302
    refused = log_in(other, sam, password="wrong password entirely")
    assert SUSPENDED not in refused.get_data(as_text=True)  # only the right password learns it

    lift_suspension(fresh(User, sam.id), actor=fresh(User, admin.id),
                    reason="Appeal accepted: the deposit was refunded.")
    assert not fresh(User, sam.id).is_suspended
    assert browser.get("/dashboard").status_code == 302  # the ended session stays ended
    assert log_in(other, sam).status_code == 302
    assert other.get("/dashboard").status_code == 200
    assert entries(action="suspension_lifted") == [
        ("suspension_lifted", "member", sam.id, admin.id, sam.id,
         "Appeal accepted: the deposit was refunded.")]


def test_lifting_leaves_closed_things_closed(scene, open_case_about, admin, sam):
    suspend(open_case_about(sam), admin)
    lift_suspension(fresh(User, sam.id), actor=fresh(User, admin.id), reason="Appeal upheld.")
    assert state(Offer, scene.open_offer) == OfferState.WITHDRAWN
    assert state(Gig, scene.own_gig) == GigState.CANCELLED
    assert state(Invite, scene.invite) == InviteState.REVOKED
    assert wallet(sam) == (9_00, 0)


def test_lifting_refusals_leave_no_entry(open_case_about, admin, sam, tom):
    with pytest.raises(Conflict, match="not suspended"):
        lift_suspension(fresh(User, sam.id), actor=fresh(User, admin.id), reason="Why not.")
    suspend(open_case_about(sam), admin)
    with pytest.raises(NotAllowed):
        lift_suspension(fresh(User, sam.id), actor=fresh(User, tom.id), reason="My friend.")
    with pytest.raises(Invalid):
        lift_suspension(fresh(User, sam.id), actor=fresh(User, admin.id), reason="  \n ")
    assert entries(action="suspension_lifted") == []
    assert fresh(User, sam.id).is_suspended


def test_a_member_suspended_already_stays_so(make_gig, open_case_about, admin, sam, tom):
    first, second = open_case_about(sam), open_case_about(sam, summary="Another client.")
    suspend(first, admin)
    before = fresh(User, sam.id)
    at, token = before.suspended_at, before.session_token
    suspend(second, admin, reason="The second client's deposit, too.")
    after = fresh(User, sam.id)
    assert (after.suspended_at, after.session_token) == (at, token)
    assert [e[0] for e in entries(subject_user_id=sam.id)] == [
        "case_opened", "case_opened", "case_suspended", "case_suspended"]
    assert fresh(Case, second.id).resolution == "suspended"


def test_a_member_with_nothing_open_is_suspended_cleanly(open_case_about, admin, sam):
    case = open_case_about(sam)
    suspend(case, admin)
    assert fresh(User, sam.id).is_suspended
    assert evidence_of(case.id) == []


def test_a_running_project_linked_already_is_not_linked_twice(run_project, open_case_about,
                                                             admin, sam, tom):
    linked = run_project(tom, sam).id
    other = run_project(sam, tom).id
    case = open_case_about(sam, evidence=[("project", linked)])
    suspend(case, admin)
    assert evidence_of(case.id) == [(EvidenceKind.PROJECT, linked),
                                    (EvidenceKind.PROJECT, other)]


def test_the_inviters_record_keeps_the_count_of_invitees_suspended(
        client, open_case_about, admin, ivan, sam, tom):
    suspend(open_case_about(sam), admin)
    assert fresh(User, ivan.id).invitees_suspended == 1
    lift_suspension(fresh(User, sam.id), actor=admin, reason="Appeal accepted")
    assert fresh(User, ivan.id).invitees_suspended == 1  # a record, not a state
    log_in(client, tom)
    page = client.get("/members/ivan").get_data(as_text=True)
    name = fresh(User, ivan.id).name
    assert f"1 of the members {name} invited was suspended." in page


def test_suspension_turns_the_members_webhooks_off_with_the_reason_and_queues_nothing(
        client, open_case_about, admin, sam, tom):
    sams = create_webhook_endpoint(actor=fresh(User, sam.id), url="https://sam.example/in",
                                   events=["message.received"]).endpoint_id
    toms = create_webhook_endpoint(actor=fresh(User, tom.id), url="https://tom.example/in",
                                   events=["message.received"]).endpoint_id
    site = create_webhook_endpoint(actor=fresh(User, admin.id), url="https://ops.example/in",
                                   events=["message.received"], site_wide=True,
                                   reason="Ops").endpoint_id
    suspend(open_case_about(sam), admin)
    off = fresh(WebhookEndpoint, sams)
    turned_off_at = off.disabled_at
    assert turned_off_at is not None and "suspended" in off.disabled_reason
    assert fresh(WebhookEndpoint, toms).disabled_at is None
    assert fresh(WebhookEndpoint, site).disabled_at is None
    # even an endpoint of theirs that is on gets nothing while they are suspended
    with atomic():
        db.session.get(WebhookEndpoint, sams).disabled_at = None
    notify(fresh(User, sam.id), "new_message", title="A message", link="/dashboard")
    notify(fresh(User, tom.id), "new_message", title="A message", link="/dashboard")
    queued = db.session.scalars(select(WebhookDelivery.endpoint_id)).all()
    assert sorted(queued) == sorted([site, site, toms])
    # lifted, sam reads why it is off on the webhook's page, and turns it on
    with atomic():
        db.session.get(WebhookEndpoint, sams).disabled_at = turned_off_at
    lift_suspension(fresh(User, sam.id), actor=admin, reason="Appeal accepted")
    log_in(client, fresh(User, sam.id))
    page = client.get(f"/webhooks/{sams}").get_data(as_text=True)
    assert "Turned off when your account was suspended" in page
    enable_webhook_endpoint(sams, actor=fresh(User, sam.id))
    assert fresh(WebhookEndpoint, sams).disabled_reason is None


def test_a_password_change_leaves_the_members_webhooks_on(sam):
    made = create_webhook_endpoint(actor=fresh(User, sam.id), url="https://sam.example/in",
                                   events=["message.received"])
    change_password(fresh(User, sam.id), current_password=PASSWORD,
                    new_password="a new long passphrase")
    assert fresh(WebhookEndpoint, made.endpoint_id).disabled_at is None
