from sqlalchemy import func, select

from offload.accounts.models import User
from offload.accounts.services import authenticate
from offload.alerts.models import Alert
from offload.core.db import db
from offload.demo.data import DEMO_PASSWORD, GIGS, MEMBERS
from offload.gigs.models import ClientDetails, Gig, GigKind, GigState, Question
from offload.health import MONEY_CHECKS
from offload.invites.models import Invite, InviteState
from offload.invites.policies import invites_left
from offload.ledger.checks import run_checks
from offload.ledger.models import Transfer
from offload.offers.models import (
    FeeKind,
    Offer,
    OfferPortfolioItem,
    OfferProposal,
    OfferState,
    ProposalState,
)
from offload.offers.services import award_offer, fee_for
from offload.wallet.queries import wallet_summary

SEEDED = (Gig, ClientDetails, Question, Offer, OfferProposal, OfferPortfolioItem, Transfer,
          User, Alert, Invite)


def _seed(app):
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    return result.output


def _counts() -> dict[str, int]:
    return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in SEEDED}


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _fees_by_member() -> dict[str, tuple[int, int]]:
    """(charged, held) per member, as the demo data says."""
    fees = {spec["username"]: (0, 0) for spec in MEMBERS}
    for gig in GIGS:
        for offer in gig["offers"]:
            charged, held = fees[offer["member"]]
            kind = offer.get("fee_kind")
            if kind == FeeKind.PREPAID:
                charged += fee_for(kind)
            elif kind == FeeKind.POSTPAID:
                held += fee_for(kind)
            fees[offer["member"]] = (charged, held)
    return fees


def test_seed_builds_an_invite_tree_and_is_idempotent(app):
    first = _seed(app)
    assert f"created {len(MEMBERS) + 1} member(s) and {len(GIGS)} gig(s)" in first
    count = db.session.scalar(select(func.count()).select_from(User))
    assert "already there" in _seed(app)
    assert db.session.scalar(select(func.count()).select_from(User)) == count
    bob, alice = _user("bob"), _user("alice")
    assert bob.invited_by_id == alice.id and bob.is_confirmed
    assert authenticate("admin", DEMO_PASSWORD).is_admin


def test_seed_grows_the_tree_through_accepted_invites(app, client, login):
    _seed(app)
    _seed(app)  # idempotent: no second invite for anyone
    invites = list(db.session.scalars(select(Invite).order_by(Invite.id)))
    assert [(db.session.get(User, i.inviter_id).username,
             db.session.get(User, i.accepted_user_id).username, i.state) for i in invites] == [
        (spec["inviter"], spec["username"], InviteState.ACCEPTED) for spec in MEMBERS]
    for spec in MEMBERS:
        member = _user(spec["username"])
        assert member.invited_by_id == _user(spec["inviter"]).id and member.is_confirmed
        invite = next(i for i in invites if i.accepted_user_id == member.id)
        assert invite.email == member.email and invite.vouch_note == spec["vouch"]
    alice = _user("alice")
    assert invites_left(alice) == app.config["INVITE_QUOTA"] - 2  # bob and carol
    login(alice, password=DEMO_PASSWORD)
    page = client.get("/invites").get_data(as_text=True)
    assert "invited anyone yet" not in page
    assert "bob@offload.test" in page and "carol@offload.test" in page
    assert "Bob Okafor" in page and "Carol Nguyen" in page


def test_seed_shows_a_busy_member_and_an_alert(app):
    from offload.profiles.models import Profile

    _seed(app)
    assert db.session.get(Profile, _user("carol").id).available is False
    assert db.session.get(Profile, _user("bob").id).available is True
    alert = db.session.scalar(select(Alert).where(Alert.user_id == _user("alice").id))
    assert alert.query == "q=api&category=backend" and alert.frequency == "instant"


def test_seed_posts_open_gigs_of_both_kinds_with_questions_and_offers(app):
    _seed(app)
    gigs = list(db.session.scalars(select(Gig)))
    assert sorted(g.title for g in gigs) == sorted(spec["title"] for spec in GIGS)
    assert {g.kind for g in gigs} == {GigKind.REFERRAL, GigKind.TASK}
    assert {g.state for g in gigs} == {GigState.OPEN}  # visitors award them
    referrals = {g.id for g in gigs if g.kind == GigKind.REFERRAL}
    assert set(db.session.scalars(select(ClientDetails.gig_id))) == referrals

    questions = list(db.session.scalars(select(Question)))
    assert len(questions) == sum(len(spec["questions"]) for spec in GIGS)
    answered = sum(1 for spec in GIGS for q in spec["questions"] if q.get("answer"))
    assert 0 < sum(q.answer is not None for q in questions) == answered < len(questions)

    offers = list(db.session.scalars(select(Offer)))
    assert len(offers) == sum(len(spec["offers"]) for spec in GIGS)
    assert max(sum(o.gig_id == g.id for o in offers) for g in gigs) >= 3
    assert {o.fee_kind for o in offers if o.gig_id in referrals} == {FeeKind.FREE}
    assert {o.fee_kind for o in offers if o.gig_id not in referrals} == {
        FeeKind.PREPAID, FeeKind.POSTPAID}
    assert OfferState.SHORTLISTED in {o.state for o in offers}
    assert db.session.scalar(select(func.count()).select_from(OfferProposal).where(
        OfferProposal.state == ProposalState.PENDING)) == sum(
        1 for spec in GIGS for o in spec["offers"] if o.get("proposal"))
    assert db.session.scalar(select(func.count()).select_from(OfferPortfolioItem)) > 0
    assert run_checks(MONEY_CHECKS) == []


def test_a_second_seed_creates_nothing_and_moves_no_money(app):
    _seed(app)
    before = _counts()
    assert "already there" in _seed(app)
    assert _counts() == before
    for username, (charged, held) in _fees_by_member().items():
        summary = wallet_summary(_user(username).id)
        assert (summary.available, summary.held) == (50_00 - charged - held, held), username
    assert run_checks(MONEY_CHECKS) == []


def test_seeding_again_after_a_visitor_awarded_a_gig_leaves_it_alone(app):
    _seed(app)
    offer = db.session.scalar(select(Offer).where(Offer.state == OfferState.SHORTLISTED)
                              .order_by(Offer.id).limit(1))
    gig = db.session.get(Gig, offer.gig_id)
    award_offer(offer, actor=db.session.get(User, gig.poster_id))
    before = _counts()
    assert "already there" in _seed(app)
    assert _counts() == before
    assert db.session.get(Gig, gig.id).state == GigState.AWARDED
    assert run_checks(MONEY_CHECKS) == []


def test_demo_pages_render(app, client, login):
    _seed(app)
    login(_user("alice"), password=DEMO_PASSWORD)
    page = client.get("/members/bob").get_data(as_text=True)
    assert "Front-end and design systems" in page and "Alice Moreau" in page
    spec = GIGS[0]
    gig = db.session.scalar(select(Gig).where(Gig.title == spec["title"]))
    page = client.get(f"/gigs/{gig.id}").get_data(as_text=True)
    question = spec["questions"][0]
    assert question["body"] in page and question["answer"] in page
