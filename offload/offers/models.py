"""Offers on gigs and the terms negotiated on them.

Design note
- An ``Offer`` is one member's proposal on one gig: price, days to deliver, cover
  letter and chosen portfolio items. Its lifecycle is ``OfferState`` and
  ``OFFER_TRANSITIONS``; services move it only with an UPDATE guarded by the state it
  leaves, so of a withdraw and an award racing, exactly one happens.
- *Live* offers (active, shortlisted, awarded) are at most one per member and gig:
  a partial unique index says so, whatever the services check first.
- The response fee is recorded on the offer when it is made (``fee_kind``,
  ``fee_minor``) and moves through the ledger with ``Cause("offer", id)``:
  free on referral gigs; on task gigs a *prepaid* click is posted at once (wallet →
  platform revenue) and never returned, a *postpaid* click is reserved
  (``fee_transfer_id`` is the hold) and posted when the award is accepted or voided
  when the offer stops being live any other way (``fee_settle_transfer_id``).
  ``offload.offers.checks`` verifies that every offer's state matches its transfers.
- ``price_minor`` and ``days_to_deliver`` are the terms *agreed so far*: the offerer's
  own at first, then those of the last accepted proposal. The award uses them.
- An ``OfferProposal`` is one side's proposal of new terms; at most one is pending per
  offer (a partial unique index). The other side accepts, declines or counters it
  (a counter closes it and opens the counter-proposal). The rows are the history.
- An offer's conversation (messages, files, read marks) is ``offload.conversations``'.
- ``version`` goes up by one with every UPDATE of the row (the column's ``onupdate``,
  Core ``update()`` statements included): the ranked list caches each offer's HTML by it.
- Relationships are ``lazy="raise"``: pages load what they show in explicit queries.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from offload.accounts.models import User
from offload.core.db import db, utcnow
from offload.gigs.models import Gig
from offload.profiles.models import PortfolioItem

COVER_LETTER_MAX = 5000
NOTE_MAX = 1000
DECLINE_REASON_MAX = 300
PORTFOLIO_MAX = 5
DAYS_LIMIT = 3650  # the database's bound; OFFER_DAYS_MAX (config) is the working one


class OfferState(StrEnum):
    ACTIVE = "active"
    SHORTLISTED = "shortlisted"
    AWARDED = "awarded"  # the poster chose it; the offerer has yet to accept
    ACCEPTED = "accepted"  # the offerer accepted the award: the project started
    WITHDRAWN = "withdrawn"  # by the offerer, before the poster chose
    DECLINED = "declined"  # by the poster, or closed with the gig (another chosen, cancelled)
    AWARD_DECLINED = "award_declined"  # the offerer turned the award down

    @property
    def label(self) -> str:
        return {"award_declined": "Award turned down"}.get(
            self.value, self.value.replace("_", " ").capitalize())


class OfferClosedReason(StrEnum):
    """Why the system, not a party, closed an offer (``offers.closed_reason``); an offer
    the offerer withdrew or the poster declined has none."""

    MEMBER_SUSPENDED = "member_suspended"  # the offerer was suspended
    POSTER_SUSPENDED = "poster_suspended"  # the gig's poster was, and the gig cancelled
    GIG_CANCELLED = "gig_cancelled"
    GIG_EXPIRED = "gig_expired"
    ANOTHER_CHOSEN = "another_chosen"  # another offer's award was accepted

    @property
    def label(self) -> str:
        return "Closed: " + {
            "member_suspended": "the member was suspended",
            "poster_suspended": "the poster was suspended",
            "gig_cancelled": "the gig was cancelled",
            "gig_expired": "the gig expired",
            "another_chosen": "another offer was chosen",
        }[self.value]


OFFER_TRANSITIONS = {
    OfferState.ACTIVE: {OfferState.SHORTLISTED, OfferState.AWARDED, OfferState.WITHDRAWN,
                        OfferState.DECLINED},
    OfferState.SHORTLISTED: {OfferState.ACTIVE, OfferState.AWARDED, OfferState.WITHDRAWN,
                             OfferState.DECLINED},
    # the poster may take an unanswered award back: the offer is live again
    OfferState.AWARDED: {OfferState.ACCEPTED, OfferState.AWARD_DECLINED, OfferState.ACTIVE},
}
# accepted, withdrawn, declined and award_declined are final

LIVE_STATES = (OfferState.ACTIVE, OfferState.SHORTLISTED, OfferState.AWARDED)
# before the poster chooses: the offer can be withdrawn, negotiated, declined, awarded
OPEN_STATES = (OfferState.ACTIVE, OfferState.SHORTLISTED)


class FeeKind(StrEnum):
    FREE = "free"  # referral gigs
    PREPAID = "prepaid"  # charged when sent, never returned
    POSTPAID = "postpaid"  # reserved when sent, charged only if chosen


class ProposalState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    COUNTERED = "countered"
    LAPSED = "lapsed"  # the offer stopped being open before anyone answered


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


_LIVE = text(_in("state", LIVE_STATES))


class Offer(db.Model):
    __tablename__ = "offers"
    __table_args__ = (
        CheckConstraint(_in("state", OfferState), name="state"),
        CheckConstraint(_in("fee_kind", FeeKind), name="fee_kind"),
        CheckConstraint("closed_reason IS NULL OR " + _in("closed_reason", OfferClosedReason),
                        name="closed_reason"),
        CheckConstraint("price_minor > 0", name="price_positive"),
        CheckConstraint(f"days_to_deliver BETWEEN 1 AND {DAYS_LIMIT}", name="days"),
        CheckConstraint("(fee_kind = 'free') = (fee_minor = 0) AND fee_minor >= 0",
                        name="fee"),
        # one live offer per member per gig: the database settles a double submit
        Index("uq_offers_live_member_gig", "gig_id", "member_id", unique=True,
              sqlite_where=_LIVE, postgresql_where=_LIVE),
        # a gig's offers in ranking order (time, then id) and their count
        Index("ix_offers_gig_created", "gig_id", "created_at", "id"),
        # my offers, newest first
        Index("ix_offers_member_created", "member_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gig_id: Mapped[int] = mapped_column(ForeignKey("gigs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(16), default=OfferState.ACTIVE)
    price_minor: Mapped[int] = mapped_column(BigInteger)
    days_to_deliver: Mapped[int]
    cover_letter: Mapped[str] = mapped_column(Text)
    fee_kind: Mapped[str] = mapped_column(String(16))
    fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_transfer_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"))
    fee_settle_transfer_id: Mapped[int | None] = mapped_column(ForeignKey("transfers.id"))
    decline_reason: Mapped[str | None] = mapped_column(String(DECLINE_REASON_MAX))
    closed_reason: Mapped[str | None] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow,
                                                       server_default=func.now())
    # bumped by every UPDATE through SQLAlchemy (ORM flush or Core ``update()``): the
    # cached HTML of the offer's row in the ranked list is keyed by it
    version: Mapped[int] = mapped_column(default=1, server_default="1",
                                         onupdate=literal_column("version") + 1)

    gig: Mapped[Gig] = relationship(lazy="raise")
    member: Mapped[User] = relationship(lazy="raise")
    portfolio_items: Mapped[list[PortfolioItem]] = relationship(
        secondary="offer_portfolio_items", order_by=PortfolioItem.id, lazy="raise",
        viewonly=True)

    @property
    def is_live(self) -> bool:
        return self.state in LIVE_STATES

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def state_label(self) -> str:
        """The state as members read it: why the system closed it, where it did (a
        suspended member's offer is not one they withdrew)."""
        if self.closed_reason:
            return OfferClosedReason(self.closed_reason).label
        return OfferState(self.state).label

    def __repr__(self) -> str:
        return f"<Offer {self.id} gig={self.gig_id} member={self.member_id} {self.state}>"


class OfferPortfolioItem(db.Model):
    """A portfolio item the offerer chose to show with the offer."""

    __tablename__ = "offer_portfolio_items"

    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), primary_key=True)
    portfolio_item_id: Mapped[int] = mapped_column(ForeignKey("portfolio_items.id"),
                                                   primary_key=True, index=True)


_PENDING = text("state = 'pending'")


class OfferProposal(db.Model):
    """New terms proposed by one side of an offer; the other side answers once."""

    __tablename__ = "offer_proposals"
    __table_args__ = (
        CheckConstraint(_in("state", ProposalState), name="state"),
        CheckConstraint("price_minor > 0", name="price_positive"),
        CheckConstraint(f"days_to_deliver BETWEEN 1 AND {DAYS_LIMIT}", name="days"),
        CheckConstraint("(state = 'pending') = (responded_at IS NULL)", name="responded"),
        Index("uq_offer_proposals_pending", "offer_id", unique=True,
              sqlite_where=_PENDING, postgresql_where=_PENDING),
        Index("ix_offer_proposals_offer_created", "offer_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"))
    proposer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    price_minor: Mapped[int] = mapped_column(BigInteger)
    days_to_deliver: Mapped[int]
    note: Mapped[str] = mapped_column(String(NOTE_MAX), default="", server_default="")
    state: Mapped[str] = mapped_column(String(16), default=ProposalState.PENDING)
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    responded_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())

    proposer: Mapped[User] = relationship(foreign_keys=[proposer_id], lazy="raise")
