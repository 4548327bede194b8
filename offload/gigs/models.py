"""Gigs: work a member passes on (referral) or posts for themself (task).

Design note
- ``Gig`` holds everything the board shows. Its lifecycle is ``GigState`` and
  ``GIG_TRANSITIONS``; every change of state goes through ``lifecycle.move_gigs()``, a
  guarded ``UPDATE … WHERE state = :expected`` whose row count settles races.
- ``published_at`` is when the gig first became open; "newest" on the board means
  newest published, so a draft written last month and published today is new today.
- ``deadline`` is a calendar ``Date`` (the day the work is due, read in UTC): members
  pick a day, not an instant. An open gig shows on the board up to and including its
  deadline day and is expired by the job on the day after.
- Money is integer minor units in ``currency`` (the site currency). A fixed budget
  is ``budget_min_minor == budget_max_minor``. The commission rates in force at
  posting are recorded on referral gigs (task gigs settle through escrow and record 0).
- ``skills_text`` repeats the skill names (space separated) on the row, so full-text
  search reads one row per gig: the SQLite FTS5 index and the PostgreSQL tsvector
  are both built from title, skills_text and description (see ``search.py``).
- ``performer_id`` is set when an award is accepted (the offers package does it).
- ``ClientDetails`` is a table of its own, with no relationship from ``Gig``: board,
  search and gig queries never join it, so it cannot leak by accident. Only
  ``queries.client_details_for`` reads it, behind ``policies.can_see_client_details``.
- ``GigSkill`` links 1–10 skills to a gig (the services enforce the count) and
  repeats whether the gig is open, for the skill filter's index;
  ``GigAttachment`` rows are the only way to reach a gig's files.
- Every index here serves a query in ``queries.py`` or ``services.py``; the board's are
  partial (``WHERE state = 'open'``), so they only hold what the board can show.
  Queries that want them compare ``state`` with the literal ``'open'`` (``OPEN``), as a
  bound parameter would not let SQLite match the partial index.
- ``version`` goes up by one with every UPDATE of the row (the column's ``onupdate``,
  which Core ``update()`` statements apply too), so "the gig as shown" has a key that
  changes whenever the gig does: the board caches each row's HTML by it.
- Relationships are ``lazy="raise"``: pages load what they show in explicit queries.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    false,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from offload.accounts.models import User
from offload.core.db import db, utcnow
from offload.core.uploads import StoredFileColumns
from offload.profiles.models import SKILL_NAME_MAX, Skill

from .search_ddl import attach_search_ddl

TITLE_MAX = 140
DESCRIPTION_MAX = 20_000
SKILLS_MIN = 1
SKILLS_MAX = 10
SKILLS_TEXT_MAX = SKILLS_MAX * (SKILL_NAME_MAX + 1)
CLIENT_NAME_MAX = 120
CLIENT_CONTACT_MAX = 300
CLIENT_NOTES_MAX = 4000
QUESTION_MAX = 2000
ANSWER_MAX = 4000
CANCEL_REASON_MAX = 1000


class GigKind(StrEnum):
    REFERRAL = "referral"  # client work the poster passes on; settles by commission
    TASK = "task"  # work the poster wants done for themself; settles through escrow

    @property
    def label(self) -> str:
        return self.value.capitalize()


class GigCategory(StrEnum):
    """The fixed list of board categories; skills say the rest."""

    WEB = "web"
    MOBILE = "mobile"
    BACKEND = "backend"
    DATA = "data"
    DEVOPS = "devops"
    DESIGN = "design"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {"web": "Web", "mobile": "Mobile apps", "backend": "Backend & APIs",
                "data": "Data & ML", "devops": "DevOps & cloud", "design": "Design & UX",
                "other": "Other"}[self.value]


class GigState(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    AWARDED = "awarded"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


GIG_TRANSITIONS = {
    GigState.DRAFT: {GigState.OPEN},
    GigState.OPEN: {GigState.AWARDED, GigState.CANCELLED, GigState.EXPIRED},
    GigState.AWARDED: {GigState.IN_PROGRESS, GigState.OPEN},  # performer declined: reopen
    # a task project cancelled after its deadline passed without delivery
    GigState.IN_PROGRESS: {GigState.COMPLETED, GigState.CANCELLED},
}
# completed, cancelled and expired are final: no entry, no way out

# Compare ``Gig.state`` with this (rendered as the literal 'open') to use the board's
# partial indexes.
OPEN = literal_column("'open'")
_OPEN_ONLY = text("state = 'open'")


def _in(column: str, enum: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(m.value) for m in enum)})"


class BudgetRange:
    """``is_fixed_budget`` of a gig and of its read models (``budget_min_minor`` and
    ``budget_max_minor``)."""

    __slots__ = ()

    @property
    def is_fixed_budget(self) -> bool:
        return self.budget_min_minor == self.budget_max_minor


class Gig(BudgetRange, db.Model):
    __tablename__ = "gigs"
    __table_args__ = (
        CheckConstraint(_in("kind", GigKind), name="kind"),
        CheckConstraint(_in("category", GigCategory), name="category"),
        CheckConstraint(_in("state", GigState), name="state"),
        CheckConstraint("budget_min_minor > 0 AND budget_min_minor <= budget_max_minor",
                        name="budget"),
        CheckConstraint("commission_bps BETWEEN 0 AND 10000 "
                        "AND platform_commission_bps BETWEEN 0 AND commission_bps",
                        name="commission"),
        CheckConstraint("(state = 'draft') = (published_at IS NULL)", name="published"),
        # the board: one partial index per sort, each ending in id for the keyset
        Index("ix_gigs_open_published", "published_at", "id",
              sqlite_where=_OPEN_ONLY, postgresql_where=_OPEN_ONLY),
        Index("ix_gigs_open_budget", "budget_max_minor", "id",
              sqlite_where=_OPEN_ONLY, postgresql_where=_OPEN_ONLY),
        # also serves the expiry job (open and deadline < today)
        Index("ix_gigs_open_deadline", "deadline", "id",
              sqlite_where=_OPEN_ONLY, postgresql_where=_OPEN_ONLY),
        # the narrow rows a search or skill filter sorts (board.py): read from this
        # index alone, never from the wide table rows
        Index("ix_gigs_open_candidates", "id", "published_at", "budget_min_minor",
              "budget_max_minor", "deadline", "kind", "category",
              sqlite_where=_OPEN_ONLY, postgresql_where=_OPEN_ONLY),
        # my gigs, newest first
        Index("ix_gigs_poster_created", "poster_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    poster_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str] = mapped_column(Text)  # markdown source, ≤ DESCRIPTION_MAX
    category: Mapped[str] = mapped_column(String(16))
    skills_text: Mapped[str] = mapped_column(String(SKILLS_TEXT_MAX), default="",
                                             server_default="")
    budget_min_minor: Mapped[int] = mapped_column(BigInteger)
    budget_max_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    deadline: Mapped[date]
    state: Mapped[str] = mapped_column(String(16), default=GigState.DRAFT)
    commission_bps: Mapped[int]
    platform_commission_bps: Mapped[int]
    cancel_reason: Mapped[str | None] = mapped_column(String(CANCEL_REASON_MAX))
    # the member whose offer was accepted (set with awarded → in progress); they see a
    # referral's client details from then on
    performer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    published_at: Mapped[datetime | None]
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow,
                                                       server_default=func.now())
    # bumped by every UPDATE through SQLAlchemy (ORM flush or Core ``update()``): the
    # cached HTML of the gig's row is keyed by it (``offload.core.cache``)
    version: Mapped[int] = mapped_column(default=1, server_default="1",
                                         onupdate=literal_column("version") + 1)

    poster: Mapped[User] = relationship(foreign_keys=[poster_id], lazy="raise")
    # read-only: services write GigSkill rows (and skills_text) themselves
    skills: Mapped[list[Skill]] = relationship(secondary="gig_skills", order_by=Skill.slug,
                                               lazy="raise", viewonly=True)

    @property
    def referrer_commission_bps(self) -> int:
        """The referrer's share of the commission (the platform keeps the rest)."""
        return self.commission_bps - self.platform_commission_bps

    def __repr__(self) -> str:
        return f"<Gig {self.id} {self.state} {self.title!r}>"


# the full-text index (an FTS5 table on SQLite, a tsvector column on PostgreSQL)
attach_search_ddl(Gig.__table__)


class GigSkill(db.Model):
    """A skill a gig needs. ``is_open`` repeats ``gig.state == 'open'`` (``lifecycle.move_gigs``
    keeps it), so "the newest open gigs with this skill" is one walk of a small index
    that never touches the wide ``gigs`` rows."""

    __tablename__ = "gig_skills"
    __table_args__ = (
        # the board's skill filter and a member's matching gigs, newest (id) first
        Index("ix_gig_skills_open", "skill_id", "gig_id",
              sqlite_where=text("is_open = 1"), postgresql_where=text("is_open")),
        # gigs with a skill in any state (skill pages, clean-ups)
        Index("ix_gig_skills_skill_gig", "skill_id", "gig_id"),
    )

    # the primary key serves "skills of these gigs"
    gig_id: Mapped[int] = mapped_column(ForeignKey("gigs.id"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id"), primary_key=True)
    is_open: Mapped[bool] = mapped_column(default=False, server_default=false())


class ClientDetails(db.Model):
    """The referral's client: seen by the referrer, the awarded performer and admins."""

    __tablename__ = "gig_client_details"

    gig_id: Mapped[int] = mapped_column(ForeignKey("gigs.id"), primary_key=True)
    client_name: Mapped[str] = mapped_column(String(CLIENT_NAME_MAX))
    contact: Mapped[str] = mapped_column(String(CLIENT_CONTACT_MAX))
    notes: Mapped[str] = mapped_column(Text, default="", server_default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class GigAttachment(StoredFileColumns, db.Model):
    __tablename__ = "gig_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    gig_id: Mapped[int] = mapped_column(ForeignKey("gigs.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())


class Question(db.Model):
    __tablename__ = "gig_questions"
    __table_args__ = (
        CheckConstraint("(answer IS NULL) = (answered_at IS NULL)", name="answered"),
        # the questions of a gig in order; also counts one asker's questions on it
        Index("ix_gig_questions_gig_created", "gig_id", "created_at", "id"),
        Index("ix_gig_questions_gig_asker", "gig_id", "asker_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gig_id: Mapped[int] = mapped_column(ForeignKey("gigs.id"))
    asker_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(String(QUESTION_MAX))
    answer: Mapped[str | None] = mapped_column(String(ANSWER_MAX))
    answered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    asker: Mapped[User] = relationship(lazy="raise")

