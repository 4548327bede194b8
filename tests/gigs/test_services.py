"""Gig services on the real database: every transition and refusal."""

from __future__ import annotations

import itertools
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm.attributes import set_committed_value

from offload.core.db import atomic, db, utcnow
from offload.core.errors import Conflict, Invalid, NotAllowed
from offload.core.uploads import stored_path
from offload.gigs import services
from offload.gigs.lifecycle import move_gig
from offload.gigs.models import (
    GIG_TRANSITIONS,
    ClientDetails,
    Gig,
    GigAttachment,
    GigSkill,
    GigState,
    Question,
)
from offload.gigs.services import ClientInfo, InvalidField
from offload.moderation.models import ModerationEntry
from offload.notifications.models import Notification
from offload.profiles.models import Skill
from tests.support.factories import PDF, count, fresh, in_days, upload
from tests.support.gigs import indexed_ids, open_ids


def assert_is_open_follows_state(gig: Gig) -> None:
    flags = set(db.session.scalars(select(GigSkill.is_open).where(GigSkill.gig_id == gig.id)))
    assert flags == {fresh(gig).state == GigState.OPEN}
    assert indexed_ids() == open_ids()  # the full-text index holds exactly the open gigs


def terms(**overrides) -> dict:
    values = {"kind": "referral", "title": "Rewrite the shop", "description": "Django to Flask.",
              "skill_names": ["Python", "Flask"], "category": "backend",
              "budget_min_minor": 100_000, "budget_max_minor": 200_000, "deadline": in_days(20),
              "client_details": ClientInfo("Acme", "cto@acme.example")}
    values.update(overrides)
    return values


# --- posting ------------------------------------------------------------------------------

def test_post_gig_opens_it_with_the_rates_in_force_and_its_skills(app, make_member):
    alice = make_member("alice")
    app.config.update(COMMISSION_BPS=1200, PLATFORM_COMMISSION_BPS=400)
    try:
        gig = services.post_gig(actor=alice, **terms(skill_names=["Python", " flask ", "Flask"]))
    finally:
        app.config.update(COMMISSION_BPS=1000, PLATFORM_COMMISSION_BPS=300)
    gig = fresh(gig)
    assert gig.state == GigState.OPEN and gig.published_at is not None
    assert (gig.commission_bps, gig.platform_commission_bps, gig.referrer_commission_bps) == (
        1200, 400, 800)
    assert gig.currency == "USD" and gig.poster_id == alice.id
    assert gig.skills_text == "Python flask"
    assert set(db.session.scalars(select(Skill.slug))) == {"python", "flask"}
    details = db.session.get(ClientDetails, gig.id)
    assert (details.client_name, details.contact, details.notes) == ("Acme", "cto@acme.example",
                                                                     "")
    assert_is_open_follows_state(gig)


def test_a_task_gig_records_no_commission_and_has_no_client_details(make_member):
    gig = services.post_gig(actor=make_member(), **terms(kind="task", client_details=None))
    assert (gig.commission_bps, gig.platform_commission_bps) == (0, 0)
    assert count(ClientDetails) == 0


def test_posting_as_a_draft_keeps_it_off_the_board(make_member):
    gig = services.post_gig(actor=make_member(), publish=False, **terms())
    gig = fresh(gig)
    assert gig.state == GigState.DRAFT and gig.published_at is None
    assert_is_open_follows_state(gig)


def test_an_unconfirmed_member_cannot_post(make_member):
    with pytest.raises(NotAllowed, match="Confirm your e-mail"):
        services.post_gig(actor=make_member(confirmed=False), **terms())
    assert count(Gig) == 0


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"kind": "gift"}, "kind", "referral or a task"),
    ({"title": "   "}, "title", "can't be empty"),
    ({"title": "x" * 141}, "title", "at most 140"),
    ({"description": ""}, "description", "can't be empty"),
    ({"description": "x" * 20_001}, "description", "at most 20,000"),
    ({"skill_names": []}, "skills", "1 to 10"),
    ({"skill_names": [f"skill{i}" for i in range(11)]}, "skills", "you listed 11"),
    ({"skill_names": ["<script>"]}, "skills", "isn't a skill name"),
    ({"category": "cooking"}, "category", "Choose a category"),
    ({"budget_min_minor": 0}, "budget_min", "more than zero"),
    ({"budget_min_minor": "100"}, "budget_min", "as an amount"),
    ({"budget_max_minor": True}, "budget_max", "as an amount"),
    ({"budget_min_minor": 300_000}, "budget_max", "can't be below"),
    ({"budget_max_minor": 1_000_000_01}, "budget_max", "can't be more than"),
    ({"deadline": in_days(0)}, "deadline", "after today"),
    ({"deadline": in_days(-3)}, "deadline", "after today"),
    ({"deadline": in_days(366)}, "deadline", "at most 365 days"),
    ({"deadline": utcnow() + timedelta(days=3)}, "deadline", "Choose the day"),
    ({"client_details": None}, "client_name", "client's name"),
    ({"client_details": {"name": "", "contact": "", "notes": ""}}, "client_name", "client's"),
    ({"client_details": {"name": "Acme", "contact": " "}}, "client_contact", "can't be empty"),
    ({"client_details": ClientInfo("A" * 121, "x")}, "client_name", "at most 120"),
    ({"kind": "task"}, "client_name", "only for referral gigs"),
])
def test_post_gig_refuses_bad_input_naming_the_field(make_member, overrides, field, message):
    with pytest.raises(InvalidField, match=message) as refused:
        services.post_gig(actor=make_member(), **terms(**overrides))
    assert refused.value.field == field
    assert count(Gig) == 0 and count(GigSkill) == 0 and count(ClientDetails) == 0


def test_a_task_gig_may_send_empty_client_fields(make_member):
    gig = services.post_gig(actor=make_member(), **terms(
        kind="task", client_details={"name": "", "contact": "", "notes": ""}))
    assert gig.kind == "task" and count(ClientDetails) == 0


# --- publishing, editing, cancelling ------------------------------------------------------

def test_publish_gig_moves_a_draft_to_open(make_member, make_gig):
    alice = make_member()
    gig = make_gig(alice, publish=False)
    services.publish_gig(gig, actor=alice)
    gig = fresh(gig)
    assert gig.state == GigState.OPEN and gig.published_at == gig.state_changed_at
    assert_is_open_follows_state(gig)


def test_publish_gig_refusals(make_member, make_gig):
    alice, bob = make_member(), make_member()
    draft = make_gig(alice, publish=False)
    with pytest.raises(NotAllowed, match="Only the member who wrote"):
        services.publish_gig(draft, actor=bob)
    db.session.execute(update(Gig).where(Gig.id == draft.id).values(deadline=in_days(0)))
    db.session.commit()
    with pytest.raises(InvalidField, match="deadline has come"):
        services.publish_gig(draft, actor=alice)
    opened = make_gig(alice)
    with pytest.raises(Conflict, match="already published"):
        services.publish_gig(opened, actor=alice)
    db.session.execute(update(Gig).where(Gig.id == draft.id).values(deadline=in_days(5)))
    db.session.execute(update(type(alice)).where(type(alice).id == alice.id)
                       .values(email_confirmed_at=None))
    db.session.commit()
    with pytest.raises(NotAllowed, match="Confirm your e-mail"):
        services.publish_gig(draft, actor=db.session.get(type(alice), alice.id))
    assert fresh(draft).state == GigState.DRAFT


def test_edit_gig_changes_fields_skills_and_client_details(make_member, make_gig):
    alice = make_member()
    gig = make_gig(alice, skill_names=["Python", "Django"])
    services.edit_gig(gig, actor=alice, title="New title", description="New text",
                      skill_names=["Python", "Rust"], category="web", budget_min_minor=5000,
                      budget_max_minor=5000, deadline=in_days(9),
                      client_details=ClientInfo("Beta GmbH", "+49 30 1234", "Call after 10"))
    assert (gig.title, gig.category, gig.budget_min_minor, gig.is_fixed_budget) == (
        "New title", "web", 5000, True)
    gig = fresh(gig)
    assert (gig.title, gig.description, gig.skills_text) == ("New title", "New text",
                                                             "Python Rust")
    assert {s.slug for s in db.session.scalars(
        select(Skill).join(GigSkill).where(GigSkill.gig_id == gig.id))} == {"python", "rust"}
    assert db.session.get(ClientDetails, gig.id).client_name == "Beta GmbH"
    assert_is_open_follows_state(gig)


def test_a_draft_can_be_edited_too(make_member, make_gig):
    alice = make_member()
    gig = make_gig(alice, publish=False, kind="task")
    edit = {k: v for k, v in terms(title="Better").items() if k not in ("kind",
                                                                      "client_details")}
    services.edit_gig(gig, actor=alice, **edit)
    assert fresh(gig).title == "Better"
    assert_is_open_follows_state(gig)


def test_edit_gig_refusals(make_member, make_gig):
    alice, bob = make_member(), make_member()
    gig = make_gig(alice)
    edit = {k: v for k, v in terms().items() if k != "kind"}
    with pytest.raises(NotAllowed, match="Only the member who posted"):
        services.edit_gig(gig, actor=bob, **edit)
    with pytest.raises(InvalidField, match="client's name"):
        services.edit_gig(gig, actor=alice, **{**edit, "client_details": {"name": ""}})
    services.edit_gig(gig, actor=alice, **{**edit, "title": "Kept", "client_details": None})
    assert db.session.get(ClientDetails, gig.id).client_name == "Acme Ltd"  # unchanged
    services.cancel_gig(gig, actor=alice)
    with pytest.raises(Conflict, match="can't be changed any more: it is cancelled"):
        services.edit_gig(gig, actor=alice, **edit)
    assert fresh(gig).title != "Rewrite the shop"


def test_edit_is_a_guarded_update(make_member, make_gig):
    """The state read at the start may be stale: the UPDATE's WHERE decides."""
    alice = make_member()
    gig = make_gig(alice)
    edit = {k: v for k, v in terms(title="Sneaky").items() if k != "kind"}
    with pytest.raises(Conflict, match="changed while you were working"), atomic():
        db.session.execute(update(Gig).where(Gig.id == gig.id).values(state="cancelled"))
        set_committed_value(gig, "state", "open")  # what we had read
        services.edit_gig(gig, actor=alice, **edit)
    assert fresh(gig).title != "Sneaky"


def test_cancel_gig_by_the_poster(make_member, make_gig):
    alice = make_member()
    gig = make_gig(alice)
    services.cancel_gig(gig, actor=alice)
    gig = fresh(gig)
    assert gig.state == GigState.CANCELLED and gig.cancel_reason is None
    assert_is_open_follows_state(gig)
    with pytest.raises(Conflict, match="Only an open gig"):
        services.cancel_gig(gig, actor=alice)


def test_an_admin_cancels_only_with_a_reason(make_member, make_gig):
    admin = make_member(admin=True)
    gig = make_gig()
    with pytest.raises(InvalidField, match="Say why") as refused:
        services.cancel_gig(gig, actor=admin, reason="  ")
    assert refused.value.field == "reason"
    assert count(ModerationEntry) == 0
    services.cancel_gig(gig, actor=admin, reason="Spam: an advert, not work")
    assert fresh(gig).cancel_reason == "Spam: an advert, not work"
    entry = db.session.scalars(select(ModerationEntry)).one()
    assert (entry.actor_id, entry.action, entry.subject_type, entry.subject_id,
            entry.subject_user_id, entry.reason) == (
        admin.id, "gig_cancelled", "gig", gig.id, gig.poster_id, "Spam: an advert, not work")


def test_a_poster_may_give_a_reason_and_no_moderation_entry_is_written(make_member, make_gig):
    alice = make_member(admin=True)
    gig = make_gig(alice)
    services.cancel_gig(gig, actor=alice, reason="Client found someone")
    assert fresh(gig).cancel_reason == "Client found someone"
    assert count(ModerationEntry) == 0


def test_other_members_cannot_cancel(make_member, make_gig):
    gig = make_gig()
    with pytest.raises(NotAllowed, match="Only the member who posted"):
        services.cancel_gig(gig, actor=make_member())
    assert fresh(gig).state == GigState.OPEN


def test_a_draft_cannot_be_cancelled(make_member, make_gig):
    alice = make_member()
    gig = make_gig(alice, publish=False)
    with pytest.raises(Conflict):
        services.cancel_gig(gig, actor=alice)


def test_two_cancels_at_once_one_wins(app, make_member, make_gig):
    alice = make_member()
    gig_id = make_gig(alice).id
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def cancel():
        with app.app_context():
            actor = db.session.get(type(alice), alice.id)
            gig = db.session.get(Gig, gig_id)
            barrier.wait()
            try:
                services.cancel_gig(gig, actor=actor)
                outcomes.append("cancelled")
            except Conflict:
                outcomes.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=cancel) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["cancelled", "conflict"]


# --- the lifecycle table ------------------------------------------------------------------

ALL_MOVES = list(itertools.product(GigState, GigState))


@pytest.mark.parametrize(("frm", "to"), ALL_MOVES, ids=[f"{a}-{b}" for a, b in ALL_MOVES])
def test_move_follows_the_transition_table_exactly(make_member, make_gig, frm, to):
    gig = make_gig()
    db.session.execute(update(Gig).where(Gig.id == gig.id).values(
        state=frm.value, published_at=None if frm == GigState.DRAFT else utcnow()))
    db.session.execute(update(GigSkill).where(GigSkill.gig_id == gig.id)
                       .values(is_open=frm == GigState.OPEN))
    db.session.commit()
    gig = fresh(gig)
    allowed = to in GIG_TRANSITIONS.get(frm, set())
    values = {"published_at": utcnow()} if frm == GigState.DRAFT else {}
    if allowed:
        with atomic():
            move_gig(gig, to, **values)
        assert fresh(gig).state == to
        assert_is_open_follows_state(gig)
    else:
        with pytest.raises(Conflict, match="can't become"), atomic():
            move_gig(gig, to, **values)
        assert fresh(gig).state == frm


def test_final_states_have_no_way_out():
    final = {GigState.COMPLETED, GigState.CANCELLED, GigState.EXPIRED}
    assert final.isdisjoint(GIG_TRANSITIONS)
    assert set(GIG_TRANSITIONS) | final == set(GigState)


# --- expiry -------------------------------------------------------------------------------

def test_expire_gigs_expires_open_gigs_past_their_deadline_day(make_member, make_gig):
    alice = make_member()
    due_yesterday = make_gig(alice)
    due_today = make_gig(alice)
    draft = make_gig(alice, publish=False)
    later = make_gig(alice)
    db.session.execute(update(Gig).where(Gig.id.in_([due_yesterday.id, draft.id]))
                       .values(deadline=in_days(-1)))
    db.session.execute(update(Gig).where(Gig.id == due_today.id).values(deadline=in_days(0)))
    db.session.commit()
    assert services.expire_gigs() == 1
    assert fresh(due_yesterday).state == GigState.EXPIRED
    assert_is_open_follows_state(due_yesterday)
    assert [fresh(g).state for g in (due_today, draft, later)] == ["open", "draft", "open"]
    assert services.expire_gigs() == 0
    assert services.expire_gigs(now=utcnow() + timedelta(days=1)) == 1  # today's, tomorrow
    assert fresh(later).state == GigState.OPEN


# --- attachments --------------------------------------------------------------------------

def test_attachments_are_added_by_the_poster_and_removed_with_their_file(make_member,
                                                                         make_gig):
    alice, admin = make_member(), make_member(admin=True)
    gig = make_gig(alice)
    first = services.add_gig_attachment(gig, actor=alice, file_storage=upload(PDF, "brief.pdf"))
    second = services.add_gig_attachment(gig, actor=alice, file_storage=upload(PDF, "b2.pdf"))
    assert (first.original_name, first.content_type) == ("brief.pdf", "application/pdf")
    path = stored_path(first.stored_name)
    assert path.exists()
    services.remove_gig_attachment(first, actor=alice)
    assert not path.exists() and count(GigAttachment) == 1
    with pytest.raises(Invalid, match="reason"):
        services.remove_gig_attachment(second, actor=admin)
    services.remove_gig_attachment(second, actor=admin, reason="Contained a phone number")
    assert count(GigAttachment) == 0
    assert db.session.scalars(select(ModerationEntry.action)).all() == [
        "gig_attachment_removed"]


def test_attachment_refusals(app, make_member, make_gig):
    alice, bob = make_member(), make_member()
    gig = make_gig(alice)
    with pytest.raises(NotAllowed):
        services.add_gig_attachment(gig, actor=bob, file_storage=upload(PDF, "x.pdf"))
    with pytest.raises(InvalidField, match="Choose a file"):
        services.add_gig_attachment(gig, actor=alice, file_storage=None)
    with pytest.raises(InvalidField, match="content is not a PDF"):
        services.add_gig_attachment(gig, actor=alice, file_storage=upload(b"hello", "x.pdf"))
    with pytest.raises(InvalidField, match="Only these file types"):
        services.add_gig_attachment(gig, actor=alice, file_storage=upload(PDF, "x.exe"))
    app.config["GIG_ATTACHMENTS_MAX"] = 1
    try:
        attachment = services.add_gig_attachment(gig, actor=alice,
                                                 file_storage=upload(PDF, "x.pdf"))
        with pytest.raises(Invalid, match="at most 1 files"):
            services.add_gig_attachment(gig, actor=alice, file_storage=upload(PDF, "y.pdf"))
    finally:
        del app.config["GIG_ATTACHMENTS_MAX"]
    with pytest.raises(NotAllowed):
        services.remove_gig_attachment(attachment, actor=bob)
    services.cancel_gig(gig, actor=alice)
    with pytest.raises(Conflict, match="only be added while"):
        services.add_gig_attachment(gig, actor=alice, file_storage=upload(PDF, "z.pdf"))
    assert count(GigAttachment) == 1
    assert len(list(Path(app.config["UPLOAD_FOLDER"]).glob("*.pdf"))) >= 1


def test_a_failed_attachment_leaves_no_file(app, make_member, make_gig, monkeypatch):
    alice = make_member()
    gig = make_gig(alice)
    folder = Path(app.config["UPLOAD_FOLDER"])
    before = set(folder.glob("*")) if folder.exists() else set()

    def boom(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(db.session, "flush", boom)
    with pytest.raises(RuntimeError):
        services.add_gig_attachment(gig, actor=alice, file_storage=upload(PDF, "x.pdf"))
    monkeypatch.undo()
    assert set(folder.glob("*")) == before


# --- questions ----------------------------------------------------------------------------

def notifications(member) -> list[tuple[str, str, str]]:
    return [(n.kind, n.title, n.link) for n in db.session.scalars(
        select(Notification).where(Notification.user_id == member.id).order_by(Notification.id))]


def test_questions_flow_with_notifications_both_ways(make_member, make_gig):
    alice, bob = make_member(display_name="Alice"), make_member(display_name="Bob")
    gig = make_gig(alice, title="Shop rewrite")
    question = services.ask_question(gig, actor=bob, body="  Is there a test suite?\n ")
    assert question.body == "Is there a test suite?"
    assert notifications(alice) == [("question_asked", "Bob asked about “Shop rewrite”",
                                     f"/gigs/{gig.id}#question-{question.id}")]
    services.answer_question(question, actor=alice, answer="Yes, pytest.")
    question = db.session.get(Question, question.id)
    assert question.answer == "Yes, pytest." and question.answered_at is not None
    assert notifications(bob) == [("question_answered",
                                   "Alice answered your question about “Shop rewrite”",
                                   f"/gigs/{gig.id}#question-{question.id}")]


def test_question_refusals(app, make_member, make_gig):
    alice, bob = make_member(), make_member()
    gig = make_gig(alice)
    with pytest.raises(NotAllowed, match="your own gig"):
        services.ask_question(gig, actor=alice, body="Hello?")
    with pytest.raises(NotAllowed, match="Confirm your e-mail"):
        services.ask_question(gig, actor=make_member(confirmed=False), body="Hello?")
    with pytest.raises(InvalidField, match="can't be empty"):
        services.ask_question(gig, actor=bob, body="   ")
    with pytest.raises(InvalidField, match="at most 2,000"):
        services.ask_question(gig, actor=bob, body="x" * 2001)
    app.config["GIG_QUESTIONS_PER_MEMBER"] = 2
    try:
        for n in range(2):
            services.ask_question(gig, actor=bob, body=f"Question {n}?")
        with pytest.raises(Invalid, match="the most one member can"):
            services.ask_question(gig, actor=bob, body="One more?")
    finally:
        del app.config["GIG_QUESTIONS_PER_MEMBER"]
    services.cancel_gig(gig, actor=alice)
    with pytest.raises(Conflict, match="only be asked while the gig is open"):
        services.ask_question(gig, actor=make_member(), body="Still there?")
    draft = make_gig(alice, publish=False)
    with pytest.raises(Conflict):
        services.ask_question(draft, actor=bob, body="Hello?")
    assert count(Question) == 2


def test_answer_refusals(make_member, make_gig):
    alice, bob = make_member(), make_member()
    gig = make_gig(alice)
    question = services.ask_question(gig, actor=bob, body="When do we start?")
    with pytest.raises(NotAllowed, match="Only the member who posted"):
        services.answer_question(question, actor=bob, answer="Tomorrow")
    with pytest.raises(InvalidField, match="can't be empty"):
        services.answer_question(question, actor=alice, answer=" ")
    services.answer_question(question, actor=alice, answer="Monday")
    with pytest.raises(Conflict, match="already been answered"):
        services.answer_question(question, actor=alice, answer="Tuesday")
    stale = db.session.get(Question, question.id)
    with pytest.raises(Conflict, match="already been answered"), atomic():
        set_committed_value(stale, "answered_at", None)  # as if read before the answer
        set_committed_value(stale, "answer", None)
        services.answer_question(stale, actor=alice, answer="Wednesday")
    assert db.session.get(Question, question.id).answer == "Monday"
    assert len(notifications(bob)) == 1
