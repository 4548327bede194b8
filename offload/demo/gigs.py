"""Seeding the demo gigs (``data.GIGS``) with their questions and offers.

Each gig is one transaction: the gig, its questions and answers, its offers, their
shortlisting and proposals, all through the ordinary services. A gig whose poster
already has one with the same title is skipped whole, whatever became of it since
(awarded, cancelled or expired by a visitor's clicks): none of the later steps
(answering, shortlisting, proposing) could be repeated safely on it. Offers carry a
fixed idempotency key per (gig title, member), so their fees can't be charged twice
even if an offer is ever made again.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select

from offload.accounts.models import User
from offload.core.db import atomic, db, utcnow
from offload.gigs.models import Gig
from offload.gigs.services import ClientInfo, answer_question, ask_question, post_gig
from offload.ledger.models import AccountKind
from offload.ledger.services import lock_accounts, system_account, wallet_account
from offload.offers.models import PORTFOLIO_MAX, Offer
from offload.offers.negotiation import propose_terms
from offload.offers.services import make_offer, shortlist_offer
from offload.profiles.models import PortfolioItem

from .data import GIGS


def seed_demo_gigs(members: dict[str, User]) -> list[str]:
    """Post the demo gigs that are missing, with their questions and offers; returns
    the titles posted. ``members`` maps the demo usernames to their users.

    Money: each task-gig offer's fee, prepaid (posted) or postpaid (held), from the
    offerer's wallet; the wallets must cover them.
    """
    return [spec["title"] for spec in GIGS if _seed_demo_gig(spec, members)]


def offer_key(title: str, username: str) -> str:
    """The fixed idempotency key of a demo offer (within the 64 characters allowed)."""
    digest = hashlib.sha256(title.encode()).hexdigest()[:16]
    return f"demo-offer-{digest}-{username}"


def _seed_demo_gig(spec: dict, members: dict[str, User]) -> bool:
    """One gig with its questions and offers, in one transaction; False if it exists."""
    poster = members[spec["poster"]]
    with atomic():  # checked inside (on SQLite under the write lock taken at BEGIN)
        if _existing_gig(poster, spec["title"]) is not None:
            return False
        gig = _post_demo_gig(spec, poster)
        _ask_questions(gig, spec.get("questions", []), members, poster)
        # the offers' fees move money of several wallets in this one transaction: their
        # accounts are locked together up front, in the ledger's one order
        lock_accounts([system_account(AccountKind.PLATFORM_REVENUE).id] + [
            wallet_account(members[o["member"]].id).id for o in spec.get("offers", [])])
        for offer_spec in spec.get("offers", []):
            _make_demo_offer(gig, offer_spec, members, poster)
    return True


def _existing_gig(poster: User, title: str) -> int | None:
    return db.session.scalar(select(Gig.id).where(Gig.poster_id == poster.id,
                                                  Gig.title == title).limit(1))


def _post_demo_gig(spec: dict, poster: User) -> Gig:
    low, high = spec["budget_minor"]
    client = spec.get("client")
    return post_gig(actor=poster, kind=spec["kind"], title=spec["title"],
                    description=spec["description"], skill_names=spec["skills"],
                    category=spec["category"], budget_min_minor=low, budget_max_minor=high,
                    deadline=utcnow().date() + timedelta(days=spec["deadline_days"]),
                    client_details=ClientInfo(**client) if client else None)


def _ask_questions(gig: Gig, questions: list[dict], members: dict[str, User],
                   poster: User) -> None:
    for spec in questions:
        question = ask_question(gig, actor=members[spec["asker"]], body=spec["body"])
        if spec.get("answer"):
            answer_question(question, actor=poster, answer=spec["answer"])


def _make_demo_offer(gig: Gig, spec: dict, members: dict[str, User], poster: User) -> Offer:
    member = members[spec["member"]]
    offer = make_offer(gig, actor=member, price_minor=spec["price_minor"],
                       days_to_deliver=spec["days"], cover_letter=spec["cover_letter"],
                       fee_kind=spec.get("fee_kind"),
                       idempotency_key=offer_key(gig.title, member.username),
                       portfolio_item_ids=_portfolio_of(member) if spec.get("portfolio")
                       else ())
    if spec.get("shortlisted"):
        shortlist_offer(offer, actor=poster)
    proposal = spec.get("proposal")
    if proposal:
        proposer = poster if proposal["by"] == "poster" else member
        propose_terms(offer, actor=proposer, price_minor=proposal["price_minor"],
                      days_to_deliver=proposal["days"], note=proposal.get("note", ""))
    return offer


def _portfolio_of(member: User) -> list[int]:
    return list(db.session.scalars(select(PortfolioItem.id)
                                   .where(PortfolioItem.user_id == member.id)
                                   .order_by(PortfolioItem.id).limit(PORTFOLIO_MAX)))
