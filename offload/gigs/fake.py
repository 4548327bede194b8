"""Many plausible gigs, fast: for the demo data and the board benchmarks.

Rows go in with bulk INSERTs (a few thousand per statement batch, one transaction per
batch), bypassing the services' checks but not the database's: constraints hold and
the full-text index is kept by the database as for any insert. Text is built from a
small vocabulary so that some words are common ("client" is in about half the gigs)
and some rare (each of ``RARE_WORDS`` in about 1 gig in 1,000): what a search
benchmark needs.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import insert

from offload.core.db import atomic, utcnow
from offload.profiles.models import Skill

from .models import ClientDetails, Gig, GigCategory, GigKind, GigSkill, GigState

VERBS = ["Build", "Fix", "Migrate", "Speed up", "Design", "Refactor", "Integrate", "Automate",
         "Audit", "Scale", "Port", "Maintain", "Rewrite", "Test", "Document", "Harden"]
THINGS = ["checkout flow", "REST API", "admin dashboard", "mobile app", "data pipeline",
          "CI pipeline", "landing page", "search feature", "payment integration",
          "reporting tool", "chat widget", "recommendation engine", "ETL job",
          "Kubernetes cluster", "design system", "booking system", "inventory sync",
          "analytics events", "login and sign-up", "PDF invoices", "e-mail templates",
          "GraphQL gateway", "offline mode", "image uploads", "price calculator"]
FOR_WHOM = ["a bakery chain", "a fintech startup", "a logistics company", "a dental clinic",
            "a law firm", "a music school", "an online shop", "a city council",
            "a travel agency", "a gym", "a real estate agent", "a farm co-operative",
            "a museum", "a charity", "a car dealer", "a hotel", "a wine importer"]
SENTENCES = [
    "The {thing} has grown over the years and needs a careful hand.",
    "We need someone who has shipped a {thing} before and can start soon.",
    "Current stack is documented; access is given on the first day.",
    "Work is remote, with a weekly call to review progress.",
    "Tests exist for the critical paths but coverage is patchy.",
    "The previous developer left notes in the repository.",
    "Deliver in small steps, each one deployable.",
    "Expect about {hours} hours of work in total.",
    "Performance matters: pages must stay fast on slow phones.",
    "Accessibility has to be checked before each release.",
    "Please describe a similar job you did when you make an offer.",
    "Budget is firm, the deadline a little flexible.",
]
COMMON = "The client is friendly and answers quickly."  # in about half the gigs
RARE_WORDS = ["cobol", "fortran", "haskell", "erlang", "ocaml", "prolog", "smalltalk",
              "lisp", "pascal", "ada"]

# state: share of gigs
STATE_SHARES = {GigState.OPEN: 0.60, GigState.DRAFT: 0.02, GigState.AWARDED: 0.03,
                GigState.IN_PROGRESS: 0.10, GigState.COMPLETED: 0.15,
                GigState.CANCELLED: 0.05, GigState.EXPIRED: 0.05}


def generate_gigs(n: int, posters: Sequence[int], skills: Sequence[Skill], rng: random.Random,
                  *, now: datetime | None = None, days: int = 365,
                  batch_size: int = 5000) -> list[int]:
    """Insert ``n`` gigs by ``posters`` (user ids) with 1–5 of ``skills`` each; their ids.

    Creation times spread evenly over the last ``days`` days in id order; states by
    ``STATE_SHARES``; open gigs have deadlines 1–120 days ahead, expired ones in the
    past. Referral gigs get client details. One transaction per ``batch_size`` gigs.
    """
    now = now or utcnow()
    config = current_app.config
    start = now - timedelta(days=days)
    step = timedelta(days=days) / max(n, 1)
    weights = [1 / (rank + 1) for rank in range(len(skills))]  # a few skills are popular
    states, shares = zip(*STATE_SHARES.items(), strict=True)
    ids: list[int] = []
    for first in range(0, n, batch_size):
        rows, skill_rows, referral = [], [], []
        for i in range(first, min(n, first + batch_size)):
            created = start + step * i
            state = rng.choices(states, shares)[0]
            kind = GigKind.REFERRAL if rng.random() < 0.6 else GigKind.TASK
            chosen = _pick(rng, skills, weights, rng.randint(1, 5))
            low = rng.choice([5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000])
            low += rng.randrange(0, low, 500)
            high = low if rng.random() < 0.5 else low * rng.choice([2, 3, 4])
            rows.append({
                "poster_id": rng.choice(posters), "kind": kind.value,
                "title": _title(rng), "description": _description(rng),
                "category": rng.choice(list(GigCategory)).value,
                "skills_text": " ".join(s.name for s in chosen),
                "budget_min_minor": low, "budget_max_minor": high,
                "currency": config["CURRENCY"], "deadline": _deadline(rng, state, created, now),
                "state": state.value,
                "commission_bps": config["COMMISSION_BPS"] if kind == GigKind.REFERRAL else 0,
                "platform_commission_bps": (config["PLATFORM_COMMISSION_BPS"]
                                            if kind == GigKind.REFERRAL else 0),
                "cancel_reason": None,
                "created_at": created, "updated_at": created, "state_changed_at": created,
                "published_at": None if state == GigState.DRAFT
                else created + timedelta(minutes=rng.randint(0, 90)),
            })
            skill_rows.append((chosen, state == GigState.OPEN))
            referral.append(kind == GigKind.REFERRAL)
        with atomic() as session:
            new_ids = list(session.scalars(
                insert(Gig).returning(Gig.id, sort_by_parameter_order=True), rows))
            session.execute(insert(GigSkill), [
                {"gig_id": gig_id, "skill_id": s.id, "is_open": is_open}
                for gig_id, (chosen, is_open) in zip(new_ids, skill_rows, strict=True)
                for s in chosen])
            details = [{"gig_id": gig_id, "client_name": f"Client {gig_id}",
                        "contact": f"owner{gig_id}@client.example", "notes": ""}
                       for gig_id, is_referral in zip(new_ids, referral, strict=True)
                       if is_referral]
            if details:
                session.execute(insert(ClientDetails), details)
        ids += new_ids
    return ids


def _pick(rng: random.Random, skills: Sequence[Skill], weights: list[float],
          k: int) -> list[Skill]:
    chosen: dict[int, Skill] = {}
    while len(chosen) < min(k, len(skills)):
        skill = rng.choices(skills, weights)[0]
        chosen[skill.id] = skill
    return list(chosen.values())


def _title(rng: random.Random) -> str:
    return f"{rng.choice(VERBS)} the {rng.choice(THINGS)} for {rng.choice(FOR_WHOM)}"


def _description(rng: random.Random) -> str:
    parts = [s.format(thing=rng.choice(THINGS), hours=rng.choice([10, 20, 40, 80, 160]))
             for s in rng.sample(SENTENCES, rng.randint(3, 7))]
    if rng.random() < 0.5:
        parts.insert(rng.randrange(len(parts) + 1), COMMON)
    for word in RARE_WORDS:
        if rng.random() < 0.001:
            parts.append(f"Some of the old code is written in {word.capitalize()}.")
    return " ".join(parts)


def _deadline(rng: random.Random, state: GigState, created: datetime, now: datetime):
    if state == GigState.OPEN:
        return now.date() + timedelta(days=rng.randint(1, 120))
    if state == GigState.EXPIRED:
        return now.date() - timedelta(days=rng.randint(1, 60))
    return created.date() + timedelta(days=rng.randint(7, 90))
