"""Posting and changing gigs, their files and their questions. Each public function is
one transaction (``atomic()``; called inside another, it joins it).

Every change of state goes through ``lifecycle.move_gigs()``: it checks
``GIG_TRANSITIONS`` and runs a guarded ``UPDATE … WHERE state = :from``, so of two
racing changes one wins and the other gets ``Conflict``. Edits are guarded the same
way. The full-text index is kept by the database (``search_ddl.py``), in the same
transaction as the change.

Closing a gig (cancel, expiry) closes its offers in the same transaction (declined,
holds released) through ``closing``, which ``create_app`` points at the offer
services: offers sit above gigs, and use only ``lifecycle`` and ``closing`` from here.

Refusals raise ``NotAllowed`` (who), ``Conflict`` (the gig is no longer in a state
that allows it) or ``Invalid``/``InvalidField`` (input), with a message for the member.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.datastructures import FileStorage

from offload.accounts.models import User
from offload.core.db import atomic, db, on_commit, transactional, utcnow
from offload.core.errors import Invalid, InvalidField, NotAllowed, refuse
from offload.core.links import site_path
from offload.core.text import clean_text
from offload.core.transitions import update_row
from offload.core.uploads import store_document, stored_path
from offload.moderation.services import record_moderation
from offload.notifications.services import notify
from offload.profiles.services import clean_skill_names, ensure_skills

from .closing import (
    GigClosed,
    close_offers_on_gigs,
    lapse_unanswered_awards,
    take_back_awards_on_gigs,
)
from .lifecycle import CHANGED_UNDER_YOU, lock_gig, log_after_commit, move_gig, move_gigs
from .models import (
    ANSWER_MAX,
    CANCEL_REASON_MAX,
    CLIENT_CONTACT_MAX,
    CLIENT_NAME_MAX,
    CLIENT_NOTES_MAX,
    DESCRIPTION_MAX,
    QUESTION_MAX,
    SKILLS_MAX,
    SKILLS_MIN,
    TITLE_MAX,
    ClientDetails,
    Gig,
    GigAttachment,
    GigCategory,
    GigKind,
    GigSkill,
    GigState,
    Question,
)
from .policies import (
    EDITABLE_STATES,
    why_cannot_answer,
    why_cannot_ask,
    why_cannot_attach,
    why_cannot_cancel,
    why_cannot_edit,
    why_cannot_post,
    why_cannot_publish,
)

log = logging.getLogger("offload.gigs")

# Defaults of the configuration knobs read with current_app.config.get()
DEADLINE_MAX_DAYS = 365
ATTACHMENTS_MAX = 10
QUESTIONS_PER_MEMBER = 10



@dataclass(frozen=True)
class ClientInfo:
    """A referral's client as the referrer enters it."""

    name: str
    contact: str
    notes: str = ""


# --- posting and editing ------------------------------------------------------------------

def post_gig(*, actor: User, kind: str, title: str, description: str,
             skill_names: Iterable[str], category: str, budget_min_minor: int,
             budget_max_minor: int, deadline: date,
             client_details: ClientInfo | Mapping[str, str] | None = None,
             publish: bool = True) -> Gig:
    """Post a gig, open on the board at once, or keep it as a draft (``publish=False``).

    State: → draft, then draft → open when publishing.
    Records: the site currency; on referral gigs the commission rates in force
    (COMMISSION_BPS, PLATFORM_COMMISSION_BPS), on task gigs 0.
    Writes: the gig, its 1–10 skills (new names join the shared list), the client
    details (referral gigs must have them, task gigs can't).
    Refuses: members ``why_cannot_post`` names; invalid fields (``InvalidField``).
    """
    with atomic():
        reason = why_cannot_post(actor)
        if reason:
            raise NotAllowed(reason)
        kind = _choice("kind", kind, GigKind, "Choose whether this is a referral or a task.")
        fields = _gig_fields(title=title, description=description, category=category,
                             budget_min_minor=budget_min_minor,
                             budget_max_minor=budget_max_minor, deadline=deadline)
        client = _client_info(kind, client_details)
        skills = _skills(skill_names, actor)
        config, now = current_app.config, utcnow()
        is_referral = kind == GigKind.REFERRAL
        gig = Gig(poster_id=actor.id, kind=kind, state=GigState.DRAFT,
                  skills_text=" ".join(s.name for s in skills),
                  currency=config["CURRENCY"],
                  commission_bps=config["COMMISSION_BPS"] if is_referral else 0,
                  platform_commission_bps=config["PLATFORM_COMMISSION_BPS"] if is_referral else 0,
                  created_at=now, updated_at=now, state_changed_at=now, **fields)
        db.session.add(gig)
        db.session.flush()
        db.session.add_all(GigSkill(gig_id=gig.id, skill_id=s.id) for s in skills)
        if client:
            db.session.add(ClientDetails(gig_id=gig.id, client_name=client.name,
                                         contact=client.contact, notes=client.notes))
        db.session.flush()
        if publish:
            move_gig(gig, GigState.OPEN, now=now, published_at=now)
        log_after_commit("gig posted", gig_id=gig.id, poster_id=actor.id, kind=kind.value,
                          state=gig.state)
    return gig


def edit_gig(gig: Gig, *, actor: User, title: str, description: str,
             skill_names: Iterable[str], category: str, budget_min_minor: int,
             budget_max_minor: int, deadline: date,
             client_details: ClientInfo | Mapping[str, str] | None = None) -> Gig:
    """Change a draft or open gig; only its poster may. The kind can't change.

    Writes: the gig's fields and skills (a guarded update: refused with ``Conflict`` if
    the gig left draft/open meanwhile); a referral's client details when given
    (``None`` keeps them; given, they must be complete).
    """
    with atomic():
        refuse(why_cannot_edit(gig, actor), actor_may=actor.id == gig.poster_id)
        fields = _gig_fields(title=title, description=description, category=category,
                             budget_min_minor=budget_min_minor,
                             budget_max_minor=budget_max_minor, deadline=deadline)
        client = (None if client_details is None
                  else _client_info(GigKind(gig.kind), client_details))
        skills = _skills(skill_names, actor)
        fields.update(skills_text=" ".join(s.name for s in skills), updated_at=utcnow())
        update_row(gig, Gig.state.in_([s.value for s in EDITABLE_STATES]),
                   refused=CHANGED_UNDER_YOU, **fields)
        _set_skills(gig.id, {s.id for s in skills}, is_open=gig.state == GigState.OPEN)
        if client:
            details = db.session.get(ClientDetails, gig.id) or ClientDetails(gig_id=gig.id)
            details.client_name, details.contact = client.name, client.contact
            details.notes, details.updated_at = client.notes, utcnow()
            db.session.add(details)
        for name, value in fields.items():
            set_committed_value(gig, name, value)
        log_after_commit("gig edited", gig_id=gig.id, actor_id=actor.id)
    return gig


def publish_gig(gig: Gig, *, actor: User) -> Gig:
    """Put a draft on the board.

    State: draft → open (``published_at`` = now). Refuses drafts whose deadline has
    come and members ``why_cannot_post`` names.
    """
    with atomic():
        refuse(why_cannot_publish(gig, actor),
                actor_may=actor.id == gig.poster_id and why_cannot_post(actor) is None)
        if gig.deadline <= utcnow().date():
            raise InvalidField("deadline", "The deadline has come: choose a later one "
                                           "before publishing.")
        now = utcnow()
        move_gig(gig, GigState.OPEN, now=now, published_at=now)
    return gig


def cancel_gig(gig: Gig, *, actor: User, reason: str | None = None) -> Gig:
    """Take an open gig off the board for good.

    State: open → cancelled. The poster may; so may an admin, with a written reason
    that members see on the gig (``cancel_reason``).
    Writes (admin on someone else's gig): a moderation-log entry.
    Offers: the open ones declined, their postpaid reservations released, offerers told.
    """
    with atomic():
        refuse(why_cannot_cancel(gig, actor),
                actor_may=actor.id == gig.poster_id or actor.is_admin)
        reason = clean_text("reason", reason, CANCEL_REASON_MAX, "The reason") or None
        if actor.id != gig.poster_id:
            if not reason:
                raise InvalidField("reason", "Say why you are cancelling someone else's "
                                             "gig; the poster and members will see it.")
            record_moderation(actor=actor, action="gig_cancelled", subject_type="gig",
                              subject_id=gig.id, reason=reason,
                              subject_user=db.session.get(User, gig.poster_id))
        move_gig(gig, GigState.CANCELLED, cancel_reason=reason)
        close_offers_on_gigs([gig.id], reason="The gig was cancelled.",
                             closed=GigClosed.CANCELLED, actor_id=actor.id)
        log_after_commit("gig cancelled", gig_id=gig.id, actor_id=actor.id,
                          by_admin=actor.id != gig.poster_id)
    return gig


def expire_gigs(*, now: datetime | None = None) -> int:
    """The job: open gigs whose deadline day has passed (UTC) become expired.

    State: open → expired, for each such gig; an award still unanswered after the
    deadline lapses first (awarded → open → expired). Returns how many expired.
    Offers: the open ones declined, their postpaid reservations released, offerers told.
    One transaction per gig, re-run on a deadlock or serialization failure as a
    request is (``transactional``): a lost race costs one gig's retry, not the run.
    """
    now = now or utcnow()
    lapse_unanswered_awards(today=now.date())
    due = list(db.session.scalars(select(Gig.id).where(
        Gig.state == GigState.OPEN, Gig.deadline < now.date()).order_by(Gig.id)))
    return sum(_expire_gig(gig_id, now=now) for gig_id in due)


@transactional
def _expire_gig(gig_id: int, *, now: datetime) -> int:
    expired = move_gigs(GigState.OPEN, GigState.EXPIRED, Gig.id == gig_id,
                        Gig.deadline < now.date(), now=now)  # 0 if it moved meanwhile
    close_offers_on_gigs(expired, reason="The gig expired without an award.",
                         closed=GigClosed.EXPIRED)
    return len(expired)


def cancel_member_gigs(member_id: int, *, reason: str, actor_id: int,
                       closed: GigClosed = GigClosed.POSTER_SUSPENDED) -> list[int]:
    """A suspended (or leaving) member's gigs on the board are cancelled (drafts stay
    theirs); the ids. An award still unanswered on one goes back first, then the gig's
    offers are declined (``closed`` says why on them) and their postpaid holds
    released. Joins the suspension's (or the deletion's) transaction, whose moderation
    entry covers this."""
    with atomic():
        awarded = list(db.session.scalars(select(Gig.id).where(
            Gig.poster_id == member_id, Gig.state == GigState.AWARDED)))
        take_back_awards_on_gigs(awarded, reason=reason)
        cancelled = move_gigs(GigState.OPEN, GigState.CANCELLED, Gig.poster_id == member_id,
                              cancel_reason=reason)
        close_offers_on_gigs(cancelled, reason=reason, actor_id=actor_id, closed=closed)
        return cancelled


# --- attachments ------------------------------------------------------------------------

def add_gig_attachment(gig: Gig, *, actor: User, file_storage: FileStorage | None
                       ) -> GigAttachment:
    """Attach a PDF or image to a draft or open gig (the poster's own).

    Effects: writes the file to the upload folder (type checked by content too,
    DOCUMENT_TYPES and DOCUMENT_MAX_BYTES); removes it again if the transaction fails.
    """
    with atomic():
        lock_gig(gig)
        refuse(why_cannot_attach(gig, actor), actor_may=actor.id == gig.poster_id)
        if file_storage is None or not file_storage.filename:
            raise InvalidField("file", "Choose a file to attach.")
        limit = current_app.config.get("GIG_ATTACHMENTS_MAX", ATTACHMENTS_MAX)
        count = db.session.scalar(select(func.count()).select_from(GigAttachment)
                                  .where(GigAttachment.gig_id == gig.id))
        if count >= limit:
            raise Invalid(f"A gig can have at most {limit} files; remove one first.")
        stored = store_document(file_storage)
        attachment = GigAttachment(gig_id=gig.id, **stored.columns())
        db.session.add(attachment)
        db.session.flush()
    return attachment


def remove_gig_attachment(attachment: GigAttachment, *, actor: User,
                          reason: str | None = None) -> None:
    """Delete a gig's file: its poster may, or an admin with a written reason.

    Writes (admin on someone else's gig): a moderation-log entry. The file is deleted
    after commit.
    """
    with atomic():
        poster_id = db.session.scalar(select(Gig.poster_id).where(Gig.id == attachment.gig_id))
        if actor.id != poster_id:
            if not actor.is_admin:
                raise NotAllowed("Only the member who posted this gig can remove its files.")
            record_moderation(actor=actor, action="gig_attachment_removed",
                              subject_type="gig", subject_id=attachment.gig_id,
                              reason=reason or "", subject_user=db.session.get(User, poster_id))
        path = stored_path(attachment.stored_name)
        db.session.delete(attachment)
        on_commit(lambda: path.unlink(missing_ok=True))


# --- questions ----------------------------------------------------------------------------

def ask_question(gig: Gig, *, actor: User, body: str) -> Question:
    """Ask the poster a question on an open gig; every member sees it and its answer.

    Writes: the question. Notifies: the poster (question_asked).
    Refuses: the poster, unconfirmed members, gigs that aren't open, more than
    GIG_QUESTIONS_PER_MEMBER questions from one member on one gig.
    """
    with atomic():
        lock_gig(gig)  # a concurrent cancel or award waits, or we see its result
        refuse(why_cannot_ask(gig, actor),
                actor_may=actor.is_confirmed and actor.id != gig.poster_id)
        body = clean_text("body", body, QUESTION_MAX, "Your question", required=True,
                     multiline=True)
        limit = current_app.config.get("GIG_QUESTIONS_PER_MEMBER", QUESTIONS_PER_MEMBER)
        asked = db.session.scalar(select(func.count()).select_from(Question).where(
            Question.gig_id == gig.id, Question.asker_id == actor.id))
        if asked >= limit:
            raise Invalid(f"You have asked {asked} questions on this gig, the most one "
                          "member can; wait for answers or make an offer.")
        question = Question(gig_id=gig.id, asker_id=actor.id, body=body)
        db.session.add(question)
        db.session.flush()
        notify(db.session.get(User, gig.poster_id), "question_asked",
               title=f"{actor.name} asked about “{gig.title}”",
               link=site_path("gigs.show", gig_id=gig.id,
                                                    _anchor=f"question-{question.id}"))
    return question


def answer_question(question: Question, *, actor: User, answer: str) -> Question:
    """Answer a question on one's gig, once; the answer shows under it for everyone.

    Writes: the answer (a guarded update: a second answer gets ``Conflict``).
    Notifies: the asker (question_answered).
    """
    with atomic():
        gig = db.session.get(Gig, question.gig_id)
        refuse(why_cannot_answer(question, gig, actor), actor_may=actor.id == gig.poster_id)
        answer = clean_text("answer", answer, ANSWER_MAX, "Your answer", required=True,
                       multiline=True)
        update_row(question, Question.answered_at.is_(None), answer=answer,
                   answered_at=utcnow(), refused="This question has already been answered.")
        notify(db.session.get(User, question.asker_id), "question_answered",
               title=f"{actor.name} answered your question about “{gig.title}”",
               link=site_path("gigs.show", gig_id=gig.id,
                                                    _anchor=f"question-{question.id}"))
    return question


# --- checking input -----------------------------------------------------------------------

def _gig_fields(*, title: str, description: str, category: str, budget_min_minor: int,
                budget_max_minor: int, deadline: date) -> dict[str, Any]:
    return {
        "title": clean_text("title", title, TITLE_MAX, "The title", required=True),
        "description": clean_text("description", description, DESCRIPTION_MAX,
                             "The description", required=True, multiline=True),
        "category": _choice("category", category, GigCategory, "Choose a category."),
        **_budget(budget_min_minor, budget_max_minor),
        "deadline": _deadline(deadline),
    }


def _budget(low: int, high: int) -> dict[str, int]:
    top = current_app.config["MAX_AMOUNT_MINOR"]
    for field, value in (("budget_min", low), ("budget_max", high)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidField(field, "Enter the budget as an amount, for example 500.")
        if value <= 0:
            raise InvalidField(field, "The budget must be more than zero.")
        if value > top:
            raise InvalidField(field, "The budget can't be more than "
                                      f"{top // 100:,} {current_app.config['CURRENCY']}.")
    if low > high:
        raise InvalidField("budget_max", "The highest budget can't be below the lowest. "
                                         "For a fixed budget enter the same amount twice.")
    return {"budget_min_minor": low, "budget_max_minor": high}


def _deadline(deadline: date) -> date:
    if not isinstance(deadline, date) or isinstance(deadline, datetime):
        raise InvalidField("deadline", "Choose the day the work is due.")
    today = utcnow().date()
    days = current_app.config.get("GIG_DEADLINE_MAX_DAYS", DEADLINE_MAX_DAYS)
    if deadline <= today:
        raise InvalidField("deadline", "The deadline must be after today.")
    if deadline > today + timedelta(days=days):
        raise InvalidField("deadline", f"The deadline can be at most {days} days away.")
    return deadline


def _skills(names: Iterable[str], actor: User) -> list:
    names = clean_skill_names(names)
    if not SKILLS_MIN <= len(names) <= SKILLS_MAX:
        raise InvalidField("skills", f"List {SKILLS_MIN} to {SKILLS_MAX} skills the work "
                                     f"needs (you listed {len(names)}).")
    return ensure_skills(names, actor=actor)


def _set_skills(gig_id: int, wanted: set[int], *, is_open: bool) -> None:
    current = set(db.session.scalars(select(GigSkill.skill_id).where(GigSkill.gig_id == gig_id)))
    if current - wanted:
        db.session.execute(delete(GigSkill).where(GigSkill.gig_id == gig_id,
                                                  GigSkill.skill_id.in_(current - wanted)))
    db.session.add_all(GigSkill(gig_id=gig_id, skill_id=s, is_open=is_open)
                       for s in wanted - current)


def _client_info(kind: GigKind, given: ClientInfo | Mapping[str, str] | None
                 ) -> ClientInfo | None:
    if isinstance(given, Mapping):
        given = ClientInfo(name=given.get("name") or "", contact=given.get("contact") or "",
                           notes=given.get("notes") or "")
    empty = given is None or not (given.name.strip() or given.contact.strip()
                                  or given.notes.strip())
    if kind == GigKind.TASK:
        if not empty:
            raise InvalidField("client_name", "Client details are only for referral gigs.")
        return None
    if empty:
        raise InvalidField("client_name", "A referral needs the client's name and how to "
                                          "reach them; only you, the member you award and "
                                          "admins will see them.")
    return ClientInfo(
        name=clean_text("client_name", given.name, CLIENT_NAME_MAX, "The client's name",
                   required=True),
        contact=clean_text("client_contact", given.contact, CLIENT_CONTACT_MAX,
                      "The client's contact", required=True),
        notes=clean_text("client_notes", given.notes, CLIENT_NOTES_MAX, "The notes",
                    multiline=True))


def _choice(field: str, value: str, enum: type, message: str):
    try:
        return enum(value)
    except ValueError:
        raise InvalidField(field, message) from None
