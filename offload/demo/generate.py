"""A large, realistic data set, fast: ``flask demo generate`` (for the benchmarks).

Bulk INSERTs where nothing moves money (members in an invite tree, skills, gigs with
their text, timeline events and messages), the real services where money moves
(deposits, offers with their clicks, awards, settled referrals, funded milestones), so
``flask ledger check`` holds afterwards. Into an empty database only.

What a benchmark finds in it (``Generated``): a member to log in as, a gig with 50
offers, a project with ``SHOWCASE_EVENTS`` timeline events and as many messages, and a
range of open task gigs to place offers on.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select, text, update

from offload.accounts.models import User
from offload.accounts.passwords import hash_password
from offload.accounts.queries import member_named
from offload.accounts.services import create_admin
from offload.commissions.services import complete_referral
from offload.conversations.models import ConversationRead, OfferMessage
from offload.core.db import atomic, db, utcnow
from offload.gigs.fake import generate_gigs
from offload.gigs.models import OPEN, Gig, GigKind
from offload.gigs.services import post_gig
from offload.invites.fake import generate_tree
from offload.milestones.services import add_milestone, fund_milestone
from offload.notifications.models import OutboxEmail
from offload.offers.models import Offer
from offload.offers.services import accept_award, award_offer, make_offer
from offload.profiles.models import MemberSkill, Skill, skill_slug
from offload.projects.models import EventKind, Project, ProjectEvent
from offload.wallet.services import add_funds

from .data import ADMIN, DEMO_PASSWORD

SKILL_NAMES = [
    "Python", "JavaScript", "TypeScript", "React", "PostgreSQL", "Django", "Flask", "Go",
    "Rust", "Java", "Kotlin", "Swift", "Flutter", "Ruby", "Rails", "PHP", "Laravel", "Vue",
    "Angular", "Svelte", "Node.js", "GraphQL", "Redis", "Kubernetes", "Docker", "Terraform",
    "AWS", "GCP", "Azure", "Linux", "Elixir", "Scala", "C#", ".NET", "C++", "SQL", "dbt",
    "Airflow", "Spark", "Pandas", "Machine learning", "Data engineering", "CSS", "Tailwind",
    "Figma", "Accessibility", "Stripe", "Shopify", "WordPress", "Elasticsearch", "Kafka",
    "RabbitMQ", "CI/CD", "GitHub Actions", "Security", "Testing", "Playwright", "iOS",
    "Android", "Unity",
]
SHOWCASE_OFFERS = 50
SHOWCASE_EVENTS = 500
ACTIVE_MEMBERS = 300  # members with money: they make the offers and the benchmark's offers
FUNDS_MINOR = 5_000_00


@dataclass
class Generated:
    members: int = 0
    gigs: int = 0
    offers: int = 0
    projects: int = 0
    login: str = ""  # a member to benchmark as (with money, offers and a project)
    showcase_gig_id: int = 0  # a gig with SHOWCASE_OFFERS offers
    showcase_poster: str = ""  # who posted it (sees the offers on its page)
    showcase_project_id: int = 0  # a project with SHOWCASE_EVENTS events and messages
    offer_gig_ids: list[int] = field(default_factory=list)  # open task gigs, none offered on
    bench_members: list[str] = field(default_factory=list)  # members with money, to offer as

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def generate(members: int, gigs: int, *, seed: int = 7, say=print) -> Generated:
    """Fill an empty database with ``members`` members and ``gigs`` gigs (and the rest)."""
    if db.session.scalar(select(func.count()).select_from(Gig)):
        raise RuntimeError("generate into an empty database: this one has gigs already")
    rng = random.Random(seed)
    out = Generated()
    # the services queue mail for the generated members: mark it sent at the end (their
    # addresses are made up), so the mail worker never sends it
    _generate(out, members, gigs, rng, say)
    with atomic() as session:
        session.execute(update(OutboxEmail).where(OutboxEmail.sent_at.is_(None))
                        .values(sent_at=utcnow()))
    _analyze()
    return out


def _generate(out: Generated, members: int, gigs: int, rng: random.Random, say) -> None:
    root = member_named(ADMIN["username"]) \
        or create_admin(username=ADMIN["username"], email=ADMIN["email"],
                        password=DEMO_PASSWORD)
    ids = generate_tree(members - 1, root=root, password_hash=hash_password(DEMO_PASSWORD),
                        seed=rng.randrange(1 << 30))
    out.members = len(ids) + 1
    say(f"{out.members:,} members in an invite tree")
    skills = _skills(ids, rng)
    posters = ids[len(ids) // 10:]  # the first tenth mostly offers: posters are the rest
    gig_ids = generate_gigs(gigs, posters, skills, rng)
    out.gigs = len(gig_ids)
    say(f"{out.gigs:,} gigs")
    active = [db.session.get(User, i) for i in ids[:ACTIVE_MEMBERS]]
    for member in active:
        add_funds(actor=member, amount_minor=FUNDS_MINOR,
                  idempotency_key=f"generate-funds-{member.id}")
    open_gigs = list(db.session.execute(
        select(Gig.id, Gig.kind, Gig.poster_id).where(Gig.state == OPEN)
        .where(Gig.deadline >= utcnow().date() + timedelta(days=7))).all())
    rng.shuffle(open_gigs)
    tasks = [g for g in open_gigs if g.kind == GigKind.TASK]
    referrals = [g for g in open_gigs if g.kind == GigKind.REFERRAL]
    paid = _paid_offers(tasks[:max(10, gigs // 200)], active, rng)
    out.offers = len(paid) + _free_offers(referrals[:gigs // 25], ids, rng)
    out.showcase_gig_id = _showcase_gig(active, skills)
    out.showcase_poster = active[-1].username
    out.offers += SHOWCASE_OFFERS
    projects = _projects(paid[:max(5, gigs // 1000)])
    out.projects = len(projects)
    out.showcase_project_id = _showcase_project(projects[0], rng)
    # the benchmark's member performs the big project and has money and offers
    out.login = db.session.get(User, projects[0].performer_id).username
    out.bench_members = [m.username for m in active if m.username != out.login]
    say(f"{out.offers:,} offers, {out.projects:,} projects")
    busy = {m.id for m in active}
    out.offer_gig_ids = [g.id for g in tasks[max(10, gigs // 200):] if g.poster_id not in busy]


def _skills(member_ids: list[int], rng: random.Random) -> list[Skill]:
    """The shared skill list, and 2–5 skills for every member (popular ones more often)."""
    with atomic() as session:
        session.execute(insert(Skill), [{"slug": skill_slug(n), "name": n}
                                        for n in SKILL_NAMES])
        skills = list(session.scalars(select(Skill).order_by(Skill.id)))
        weights = [1 / (rank + 1) for rank in range(len(skills))]
        rows = []
        for member_id in member_ids:
            chosen = {s.id for s in rng.choices(skills, weights, k=rng.randint(2, 5))}
            rows += [{"user_id": member_id, "skill_id": skill_id} for skill_id in chosen]
        for start in range(0, len(rows), 5000):
            session.execute(insert(MemberSkill), rows[start:start + 5000])
    return skills


def _paid_offers(gigs: list, active: list[User], rng: random.Random) -> list[Offer]:
    """One offer on each of ``gigs`` (task gigs) by an active member, through the
    service: a prepaid or postpaid click each, so the ledger has history."""
    made = []
    for gig_id, _, poster_id in gigs:
        member = rng.choice([m for m in active[:50] if m.id != poster_id])
        made.append(make_offer(db.session.get(Gig, gig_id), actor=member,
                               price_minor=rng.randrange(200_00, 5_000_00, 50_00),
                               days_to_deliver=rng.randint(3, 60),
                               fee_kind=rng.choice(["prepaid", "postpaid"]),
                               cover_letter="I have done this before; happy to talk.",
                               idempotency_key=f"generate-offer-{gig_id}"))
        db.session.commit()
    return made


def _free_offers(gigs: list, member_ids: list[int], rng: random.Random) -> int:
    """1–4 offers on each of ``gigs`` (referral gigs: free, no money moves), in bulk."""
    now = utcnow()
    rows = []
    for gig_id, _, poster_id in gigs:
        for member_id in {rng.choice(member_ids) for _ in range(rng.randint(1, 4))} - {poster_id}:
            rows.append({"gig_id": gig_id, "member_id": member_id, "state": "active",
                         "price_minor": rng.randrange(200_00, 5_000_00, 50_00),
                         "days_to_deliver": rng.randint(3, 60), "fee_kind": "free",
                         "fee_minor": 0, "cover_letter": "Happy to take this on.",
                         "created_at": now, "updated_at": now, "state_changed_at": now})
    with atomic() as session:
        for start in range(0, len(rows), 5000):
            session.execute(insert(Offer), rows[start:start + 5000])
    return len(rows)


def _showcase_gig(active: list[User], skills: list[Skill]) -> int:
    """A task gig with SHOWCASE_OFFERS offers from as many members (the ranked list)."""
    poster = active[-1]
    gig = post_gig(actor=poster, kind="task", title="Rebuild the booking flow of a clinic",
                   description="A React front end and a Flask API; tests exist.",
                   skill_names=[s.name for s in skills[:3]], category="web",
                   budget_min_minor=2_000_00, budget_max_minor=6_000_00,
                   deadline=utcnow().date() + timedelta(days=60))
    for n, member in enumerate(active[1:SHOWCASE_OFFERS + 1]):
        make_offer(gig, actor=member, price_minor=2_000_00 + n * 50_00,
                   days_to_deliver=10 + n % 20, fee_kind="prepaid",
                   cover_letter=f"Offer number {n + 1}: I would start with the API.",
                   idempotency_key=f"generate-showcase-{n}")
        db.session.commit()
    return gig.id


def _projects(offers: list[Offer]) -> list[Project]:
    """Award and accept ``offers``; settle every other referral project (the commission
    paid from the wallet or falling due) and fund a milestone on every other task."""
    projects = []
    for n, offer in enumerate(offers):
        offer = db.session.get(Offer, offer.id)
        poster = db.session.get(User, db.session.get(Gig, offer.gig_id).poster_id)
        award_offer(offer, actor=poster)
        performer = db.session.get(User, offer.member_id)
        project = accept_award(offer, actor=performer)
        db.session.commit()
        if n % 2 and project.kind == GigKind.REFERRAL:
            complete_referral(project, actor=performer, invoiced_minor=1_000_00,
                              idempotency_key=f"generate-invoice-{project.id}",
                              invoice_reason="The client dropped part of the work.")
        elif n % 2:
            add_funds(actor=poster, amount_minor=500_00,
                      idempotency_key=f"generate-customer-{project.id}")
            milestone = add_milestone(project, actor=poster, title="First part",
                                      amount_minor=100_00,
                                      due_on=utcnow().date() + timedelta(days=14))
            fund_milestone(milestone, actor=poster,
                           idempotency_key=f"generate-milestone-{project.id}")
        db.session.commit()
        projects.append(project)
    return projects


def _showcase_project(project: Project, rng: random.Random) -> int:
    """SHOWCASE_EVENTS posted timeline events and as many messages on one project."""
    now = utcnow()
    start = now - timedelta(days=60)
    step = timedelta(days=60) / SHOWCASE_EVENTS
    parties = [project.poster_id, project.performer_id]
    kinds = [EventKind.UPDATE, EventKind.WORK_STARTED, EventKind.CLIENT_CONTACTED,
             EventKind.ISSUE_RAISED, EventKind.ISSUE_RESOLVED]
    with atomic() as session:
        session.execute(insert(ProjectEvent), [
            {"project_id": project.id, "kind": rng.choice(kinds).value,
             "actor_id": rng.choice(parties), "note": f"Progress note {n + 1}.",
             "created_at": start + step * n} for n in range(SHOWCASE_EVENTS)])
        session.execute(insert(OfferMessage), [
            {"offer_id": project.offer_id, "sender_id": rng.choice(parties),
             "body": f"Message {n + 1}: how is it going?", "created_at": start + step * n}
            for n in range(SHOWCASE_EVENTS)])
        # the parties' places in it, as sending through the service writes them (their
        # inboxes list the conversation); neither has read it yet
        newest = session.execute(
            select(OfferMessage.id, OfferMessage.created_at)
            .where(OfferMessage.offer_id == project.offer_id)
            .order_by(OfferMessage.id.desc()).limit(1)).one()
        session.execute(insert(ConversationRead), [
            {"offer_id": project.offer_id, "member_id": member_id, "last_read_message_id": 0,
             "read_at": None, "last_message_id": newest.id, "last_message_at": newest.created_at}
            for member_id in parties])
        session.execute(update(Project).where(Project.id == project.id)
                        .values(last_event_at=now))
    return project.id


def _analyze() -> None:
    """Fresh statistics, as autovacuum would gather, so plans see the data's shape."""
    with atomic() as session:
        session.execute(text("ANALYZE"))
