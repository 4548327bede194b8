"""The authorization matrix of docs/authorization.md (``MATRIX``: who may use which
route) and the world its cells are requested in (``build_world``): an admin, a member,
an unconfirmed member, an outsider, and the member's things in every feature.

Shared by tests/core/test_authorization.py (every cell), the form fuzzing and huge
numbers tests, and the browser suite's layout and accessibility checks.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from tests.support.app import empty_tables
from tests.support.factories import new_member
from tests.support.snapshot import Snapshot

MATRIX_FILE = Path(__file__).resolve().parents[2] / "docs" / "authorization.md"
ROLES = ("anonymous", "unconfirmed", "member", "outsider", "admin")


def load_matrix() -> dict[tuple[str, str], dict[str, str]]:
    matrix = {}
    for line in MATRIX_FILE.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 + len(ROLES) or cells[0] in ("endpoint", "") or "---" in cells[0]:
            continue
        matrix[(cells[0], cells[1])] = dict(zip(ROLES, cells[2:], strict=True))
    return matrix


MATRIX = load_matrix()


class World:
    """An admin, a member the admin invited, an unconfirmed member, an outsider (a
    confirmed member with no part in the member's things), and the member's things."""

    def __init__(self, make_member):
        from offload.invites.services import send_invite

        self.make_member = make_member
        self.admin = make_member("root", admin=True)
        self.member = make_member("member", inviter=self.admin)
        self.unconfirmed = make_member("newbie", confirmed=False, inviter=self.member)
        self.outsider = make_member("outsider", inviter=self.admin)
        self.invite = send_invite(actor=self.member, email="friend@example.com",
                                  vouch_note="A trusted colleague")
        self.tokens = make_tokens(self)
        self.extra = make_extra_objects(self)

    def user_for(self, role: str):
        return {"anonymous": None, "unconfirmed": self.unconfirmed, "member": self.member,
                "outsider": self.outsider, "admin": self.admin}[role]

    def url_values(self, arguments: set[str]) -> dict:
        samples = {"username": self.member.username, "token": "not-a-real-token",
                   "invite_id": self.invite.id, "action": "stop", **self.extra}
        return {name: samples[name] for name in arguments}


def make_tokens(world: World) -> dict:
    """Each signed-up role's personal access token (every scope): the API's cells send
    it as a bearer token instead of logging in, and a cell's outcome is what the member
    may do, not what a narrower token may (tests/api test the scopes). Only the
    secrets: the rows are in the snapshot, so a restored world accepts them."""
    from offload.accounts.models import TokenScope
    from offload.accounts.services import create_personal_token

    return {role: create_personal_token(actor=world.user_for(role), name=f"{role}'s script",
                                        scopes=[s.value for s in TokenScope], days=30).secret
            for role in ROLES if role != "anonymous"}


def make_extra_objects(world: World) -> dict:
    """Objects of the other features owned by the member, keyed by URL argument name."""
    from offload.accounts.devices import start_member_session
    from offload.notifications.services import notify
    from offload.profiles import services as profiles

    member = world.member
    note = notify(member, "invite_accepted", title="Someone joined", link="/dashboard")
    profiles.add_education(actor=member, school="MIT", degree="BSc", start_year=2010,
                           end_year=2014)
    profiles.add_portfolio_item(actor=member, title="Shop", url="https://shop.example",
                                description="A shop")
    # a device of the member's other than the one each cell logs in with
    start_member_session(member, user_agent="Mozilla/5.0 (iPhone) Safari/604.1",
                         address="203.0.113.9")
    return {
        "notification_id": note.id,
        "token_id": _first_id("PersonalToken", member.id, package="accounts"),
        "member_session_id": _first_id("MemberSession", member.id, package="accounts"),
        "filename": "docs.js",  # the API docs page's start script (api.static)
        "entry_id": _first_id("EducationEntry", member.id),
        "item_id": _first_id("PortfolioItem", member.id),
        "document_id": _document(member),
        **_photo(member),
        **_case_objects(world),
        **_review_objects(world),
        **_alert_objects(world),
        **_wallet_objects(member),
        **_gig_objects(world),
        **_contact_objects(world),
        **_webhook_objects(world),
        **_export_objects(world),
        "passkey_id": _passkey(member),
    }


def _passkey(member) -> int:
    """A passkey row of the member's, written directly: the service adds one only beside
    TOTP, and a member with TOTP on could not log in through the matrix's password form
    (removing it asks no fresh code of a member whose 2FA is off)."""
    import os

    from offload.accounts.models import Passkey
    from offload.core.db import db

    member_id = member.id
    # the export built just before read outside a transaction of its own: a read snapshot
    # older than the mail worker's last write can't become a write on SQLite (BUSY at once)
    db.session.rollback()
    passkey = Passkey(user_id=member_id, credential_id=os.urandom(16), public_key=b"\xa0",
                      name="Matrix key")
    db.session.add(passkey)
    db.session.commit()
    return passkey.id


def _webhook_objects(world: World) -> dict:
    """The member's webhook, and a site-wide one an admin registered."""
    from offload.webhooks.services import create_webhook_endpoint

    mine = create_webhook_endpoint(actor=world.member, url="https://hooks.example/in",
                                   events=["offer.received"])
    site = create_webhook_endpoint(actor=world.admin, url="https://ops.example/in",
                                   events=["offer.received"], site_wide=True,
                                   reason="The ops dashboard")
    return {"webhook_id": mine.endpoint_id, "site_webhook_id": site.endpoint_id}


def _export_objects(world: World) -> dict:
    """The member's data export, built (ready to download); made last, so the archive
    holds the member's other things."""
    from offload.exports.services import build_due_exports, request_export
    from tests.support.factories import PASSWORD

    export = request_export(actor=world.member, password=PASSWORD)
    build_due_exports()
    return {"export_id": export.id}


def _contact_objects(world: World) -> dict:
    """The member's message to the admins through the contact page."""
    from offload.contact.services import send_contact_message

    message = send_contact_message(actor=world.member, subject="A question",
                                   body="How do referrals work?")
    return {"contact_id": message.id}


def _gig_objects(world: World) -> dict:
    """An open referral gig posted by the member, with a file and the admin's question."""
    import io
    from datetime import timedelta

    from werkzeug.datastructures import FileStorage

    from offload.core.db import utcnow
    from offload.gigs.services import add_gig_attachment, ask_question, post_gig

    gig = post_gig(actor=world.member, kind="referral", title="Port a shop to Flask",
                   description="Move the shop.", skill_names=["Python"], category="web",
                   budget_min_minor=500_00, budget_max_minor=900_00,
                   deadline=utcnow().date() + timedelta(days=30),
                   client_details={"name": "Acme", "contact": "cto@acme.example"})
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    attachment = add_gig_attachment(gig, actor=world.member, file_storage=FileStorage(
        io.BytesIO(pdf), filename="brief.pdf"))
    question = ask_question(gig, actor=world.admin, body="Is there a staging server?")
    return {"gig_id": gig.id, "attachment_id": attachment.id, "question_id": question.id,
            **_offer_objects(world)}


def _offer_objects(world: World) -> dict:
    """The member's postpaid offer on another member's task gig, with that poster's
    proposal of new terms waiting for the member's answer."""
    from datetime import timedelta

    from offload.core.db import utcnow
    from offload.gigs.services import post_gig
    from offload.offers.negotiation import propose_terms
    from offload.offers.services import make_offer

    poster = world.make_member("poster", inviter=world.admin)
    task = post_gig(actor=poster, kind="task", title="Fix a flaky CI job",
                    description="Tests fail at random.", skill_names=["Python"],
                    category="devops", budget_min_minor=100_00, budget_max_minor=300_00,
                    deadline=utcnow().date() + timedelta(days=20))
    offer = make_offer(task, actor=world.member, price_minor=200_00, days_to_deliver=5,
                       cover_letter="I fix flaky tests.", fee_kind="postpaid",
                       idempotency_key="matrix-offer")
    proposal = propose_terms(offer, actor=poster, price_minor=180_00, days_to_deliver=5)
    file_id = _message_file_id(offer, world.member)
    return {"offer_id": offer.id, "proposal_id": proposal.id, "file_id": file_id,
            "conversation_id": offer.id,  # the API names an offer's conversation so
            "project_id": _project_id(world, poster), **_task_objects(world, poster)}


def _task_objects(world: World, poster) -> dict:
    milestone_id = _milestone_id(world, poster)
    extra = _milestone_id(world, poster, title="A second task")
    return {"milestone_id": milestone_id, "dispute_id": _dispute_id(world, extra),
            "event_file_id": _delivered_file_id(world, extra)}


def _milestone_id(world: World, poster, title: str = "A task") -> int:
    """A draft milestone on a task project the member performs for the poster."""
    from datetime import timedelta

    from offload.core.db import utcnow
    from offload.gigs.services import post_gig
    from offload.milestones.services import add_milestone
    from offload.offers.services import accept_award, award_offer, make_offer

    gig = post_gig(actor=poster, kind="task", title=title, description="Do it.",
                   skill_names=["Python"], category="web", budget_min_minor=100_00,
                   budget_max_minor=100_00, deadline=utcnow().date() + timedelta(days=20))
    offer = make_offer(gig, actor=world.member, price_minor=100_00, days_to_deliver=5,
                       cover_letter="Me.", fee_kind="prepaid",
                       idempotency_key=f"matrix-{title}")
    award_offer(offer, actor=poster)
    project = accept_award(offer, actor=world.member)
    return add_milestone(project, actor=poster, title="First part", amount_minor=50_00,
                         due_on=utcnow().date() + timedelta(days=3)).id


def _dispute_id(world: World, milestone_id: int) -> int:
    """The member's open dispute on a funded milestone of that task project."""
    from offload.accounts.models import User
    from offload.core.db import db
    from offload.milestones.disputes import open_dispute
    from offload.milestones.models import Milestone
    from offload.milestones.services import fund_milestone
    from offload.projects.models import Project
    from offload.wallet.services import add_funds

    milestone = db.session.get(Milestone, milestone_id)
    poster = db.session.get(User, db.session.get(Project, milestone.project_id).poster_id)
    add_funds(actor=poster, amount_minor=100_00, idempotency_key="matrix-escrow-funds")
    fund_milestone(milestone, actor=poster, idempotency_key="matrix-fund")
    return open_dispute(milestone, actor=world.member, statement="Not as agreed").id


def _delivered_file_id(world: World, milestone_id: int) -> int:
    """A PDF the member delivered with another milestone of that task project."""
    import io
    from datetime import timedelta

    from werkzeug.datastructures import FileStorage

    from offload.accounts.models import User
    from offload.core.db import db, utcnow
    from offload.milestones.models import Milestone
    from offload.milestones.services import add_milestone, deliver_milestone, fund_milestone
    from offload.projects.models import Project, ProjectEventFile

    project = db.session.get(Project, db.session.get(Milestone, milestone_id).project_id)
    poster = db.session.get(User, project.poster_id)
    milestone = add_milestone(project, actor=poster, title="Third part", amount_minor=10_00,
                              due_on=utcnow().date() + timedelta(days=3))
    fund_milestone(milestone, actor=poster, idempotency_key="matrix-fund-third")
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    deliver_milestone(milestone, actor=world.member, note="Done", files=[
        FileStorage(io.BytesIO(pdf), filename="work.pdf")])
    return db.session.scalar(db.select(ProjectEventFile.id).where(
        ProjectEventFile.milestone_id == milestone.id))


def _message_file_id(offer, member) -> int:
    """A PDF the member sent in the offer's conversation."""
    import io

    from werkzeug.datastructures import FileStorage

    from offload.conversations.models import OfferMessageAttachment
    from offload.conversations.services import send_offer_message
    from offload.core.db import db

    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    message = send_offer_message(offer, actor=member, body="The plan",
                                 file_storage=FileStorage(io.BytesIO(pdf), filename="plan.pdf"))
    return db.session.scalar(db.select(OfferMessageAttachment.id).where(
        OfferMessageAttachment.message_id == message.id))


def _project_id(world: World, poster) -> int:
    """A running referral project: the poster's gig, performed by the member."""
    from datetime import timedelta

    from offload.core.db import utcnow
    from offload.gigs.services import post_gig
    from offload.offers.services import accept_award, award_offer, make_offer

    gig = post_gig(actor=poster, kind="referral", title="Refer a shop", description="A shop.",
                   skill_names=["Python"], category="web", budget_min_minor=100_00,
                   budget_max_minor=100_00, deadline=utcnow().date() + timedelta(days=20),
                   client_details={"name": "Shop", "contact": "shop@example.com"})
    offer = make_offer(gig, actor=world.member, price_minor=100_00, days_to_deliver=5,
                       cover_letter="Me.", fee_kind=None, idempotency_key="matrix-project")
    award_offer(offer, actor=poster)
    return accept_award(offer, actor=world.member).id


def _review_objects(world: World) -> dict:
    """A completed referral project the member performed, reviewed by both sides, and
    its commission."""
    from datetime import timedelta

    from offload.commissions.services import complete_referral
    from offload.core.db import utcnow
    from offload.gigs.services import post_gig
    from offload.offers.services import accept_award, award_offer, make_offer
    from offload.reviews.services import submit_review

    poster = world.make_member("reviewer", inviter=world.admin)
    gig = post_gig(actor=poster, kind="referral", title="A finished job", description="Done.",
                   skill_names=["Python"], category="web", budget_min_minor=100_00,
                   budget_max_minor=100_00, deadline=utcnow().date() + timedelta(days=20),
                   client_details={"name": "Client", "contact": "c@example.com"})
    offer = make_offer(gig, actor=world.member, price_minor=100_00, days_to_deliver=5,
                       cover_letter="Me.", fee_kind=None, idempotency_key="matrix-review")
    award_offer(offer, actor=poster)
    project = accept_award(offer, actor=world.member)
    commission = complete_referral(project, actor=world.member, invoiced_minor=100_00,
                                   idempotency_key="matrix-complete",
                                   invoice_reason="Scope cut.")
    submit_review(project, actor=world.member, stars=5, body="Clear brief.")
    review = submit_review(project, actor=poster, stars=4, body="Good work.",
                           skill_stars={_skill_id("Python"): 4})
    return {"review_id": review.id, "commission_id": commission.id}


def _alert_objects(world: World) -> dict:
    """The member's keyword alert (the stop link's sample token is not a valid one)."""
    from offload.alerts.services import save_alert

    alert = save_alert(actor=world.member, query_args={"q": "flask"}, frequency="daily")
    return {"alert_id": alert.id}


def _skill_id(name: str) -> int:
    from offload.core.db import db
    from offload.profiles.models import Skill

    return db.session.scalar(db.select(Skill.id).where(Skill.name == name))


def _case_objects(world: World) -> dict:
    """A resolved case about the member (so they are not on the hook in the other
    cells) and the outsider's pending report about them."""
    from offload.cases.reports import report_member
    from offload.cases.services import open_case, resolve_case

    case = open_case(actor=world.admin, subject=world.member, kind="other",
                     summary="A complaint about tone")
    resolve_case(case, actor=world.admin, resolution="cleared", reason="Nothing in it")
    report = report_member(actor=world.outsider, subject=world.member, body="Rude to me")
    return {"case_id": case.id, "report_id": report.id}


def _wallet_objects(member) -> dict:
    """A completed deposit (and its receipt) and a requested withdrawal of the member."""
    from offload.wallet.services import add_funds, request_withdrawal

    deposit = add_funds(actor=member, amount_minor=50_00, idempotency_key="matrix-deposit")
    withdrawal = request_withdrawal(actor=member, amount_minor=10_00, payout_details="IBAN X",
                                    idempotency_key="matrix-withdrawal")
    # the receipt's sample is the deposit's
    return {"deposit_id": deposit.id, "withdrawal_id": withdrawal.id, "cause": "deposit",
            "cause_id": deposit.id}


def _first_id(model_name: str, user_id: int, package: str = "profiles") -> int:
    from importlib import import_module

    from offload.core.db import db

    model = getattr(import_module(f"offload.{package}.models"), model_name)
    return db.session.scalar(db.select(model.id).where(model.user_id == user_id))


def _document(member) -> int:
    import io

    from werkzeug.datastructures import FileStorage

    from offload.profiles.services import upload_document

    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    doc = upload_document(actor=member, kind="certificate", title="Cert",
                          file_storage=FileStorage(io.BytesIO(pdf), filename="c.pdf"))
    return doc.id


def _photo(member) -> dict:
    from offload.profiles.services import set_profile_photo
    from tests.support.images import image_upload

    profile = set_profile_photo(actor=member, file_storage=image_upload())
    return {"version": profile.photo_version, "size": 64}


def build_world(app) -> SimpleNamespace:
    """The world built through the services, as a snapshot to restore into emptied
    tables, the log-in of each role and the sample value of each URL argument (the
    browser suite's layout checks load the matrix's pages with it too)."""
    with app.app_context():
        empty_tables()
        built = World(new_member)
        users = {role: built.user_for(role) for role in ROLES}
        logins = {role: SimpleNamespace(username=u.username) if u else None
                  for role, u in users.items()}
        url_values = {name: value for name, value in built.url_values(
            set(built.extra) | {"username", "token", "invite_id", "action"}).items()}
        snapshot = Snapshot()
        empty_tables()
    return SimpleNamespace(logins=logins, url_values=url_values, snapshot=snapshot,
                           tokens={role: built.tokens.get(role) for role in ROLES})
