"""Test data made the real way, defined once: members, gigs, offers, funds, projects.

Plain functions, importable from any test or conftest; ``tests/support/fixtures.py``
wraps them as the fixtures every test directory sees (``make_member``, ``make_gig``,
``make_offer``, ``fund``, ``withdraw``, ``start_project``, ``race``). They run inside
the test's app context and commit through the services, as production does.

``fresh`` and ``count`` first end the test's read transaction (``rollback``), so they
see what services and requests committed since.
"""

from __future__ import annotations

import functools
import io
import itertools
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, inspect, select, update
from werkzeug.datastructures import FileStorage

from offload.accounts.lineage import add_to_branch_sizes
from offload.accounts.models import User
from offload.accounts.passwords import hash_password
from offload.core.db import atomic, db, utcnow
from offload.gigs.models import GigSkill
from offload.gigs.services import ClientInfo, post_gig
from offload.ledger.models import Transfer
from offload.offers.services import accept_award, award_offer, make_offer
from offload.profiles.models import Skill
from offload.projects.models import Project
from offload.wallet.services import add_funds, request_withdrawal

PASSWORD = "correct horse battery"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

_counter = itertools.count(1)
_keys = itertools.count(1)
_titles = itertools.count(1)


def new_key(prefix: str = "test-key") -> str:
    """A fresh idempotency key (one counter for every prefix, so never repeated)."""
    return f"{prefix}-{next(_keys)}"


@functools.cache
def _hashed(password: str) -> str:
    # factories reuse one hash per password (the log-in path is real)
    return hash_password(password)


def new_member(username: str | None = None, *, email: str | None = None,
               password: str = PASSWORD, confirmed: bool = True, admin: bool = False,
               inviter: User | None = None, **fields) -> User:
    """A member written straight to the database (inside an app context)."""
    n = next(_counter)
    username = username or f"member{n}"
    inviter_id = inviter.id if inviter else None  # may read (an expired inviter)
    # one write transaction (BEGIN IMMEDIATE on SQLite), as the services write: a write
    # after a read in a deferred transaction fails at once with "database is locked"
    # when another connection (the browser suite's mail worker) committed in between
    with atomic() as session:
        user = User(
            username=username.lower(),
            email=(email or f"{username}@example.com").lower(),
            password_hash=_hashed(password),
            display_name=fields.pop("display_name", username.title()),
            is_admin=admin,
            email_confirmed_at=utcnow() if confirmed else None,
            invited_by_id=inviter_id,
            **fields,
        )
        session.add(user)
        session.flush()
        if inviter_id is not None:
            add_to_branch_sizes(inviter_id, 1)
    return user


def in_days(n: int):
    return utcnow().date() + timedelta(days=n)


def upload(data: bytes, filename: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=filename)


def new_gig(poster: User | None = None, **fields):
    """A gig posted through the real service (published unless ``publish=False``);
    referral gigs get client details unless given."""
    poster = poster or new_member()
    kind = fields.pop("kind", "referral")
    values = {
        "title": f"Gig number {next(_titles)}",
        "description": "A **small** piece of work for a client.",
        "skill_names": ["Python"],
        "category": "backend",
        "budget_min_minor": 50_000,
        "budget_max_minor": 100_000,
        "deadline": in_days(30),
        "client_details": (ClientInfo("Acme Ltd", "cto@acme.example", "Prefers calls")
                           if kind == "referral" else None),
    }
    values.update(fields)
    return post_gig(actor=poster, kind=kind, **values)


def new_offer(gig, member: User, **fields):
    """An offer sent through the real service with a fresh idempotency key; task gigs
    default to a postpaid click."""
    values = {"price_minor": 400_00, "days_to_deliver": 10,
              "cover_letter": "I have done this twice before.",
              "fee_kind": fields.pop("fee_kind", "postpaid" if gig.kind == "task" else None),
              "idempotency_key": new_key("offer-key")}
    values.update(fields)
    return make_offer(gig, actor=member, **values)


def fund(member: User, amount_minor: int):
    """Add funds through the sandbox, as the member would."""
    return add_funds(actor=member, amount_minor=amount_minor, idempotency_key=new_key())


def withdraw(member: User, amount_minor: int,
             payout_details: str = "IBAN DE89 3704 0044 0532 0130 00"):
    """Request a withdrawal to a sample IBAN."""
    return request_withdrawal(actor=member, amount_minor=amount_minor,
                              payout_details=payout_details, idempotency_key=new_key())


def new_project(poster: User, performer: User, kind: str = "referral", **gig_fields):
    """``poster``'s gig, awarded to ``performer``, who accepts (task offers are prepaid:
    the performer needs $1 in the wallet); the project."""
    gig = new_gig(poster=poster, kind=kind, **gig_fields)
    offer = new_offer(gig, performer, fee_kind="prepaid" if kind == "task" else None)
    award_offer(offer, actor=poster)
    return accept_award(offer, actor=performer)


def race(app, n: int, work: Callable[[int], Any]) -> tuple[list[Any], list[BaseException]]:
    """Run ``work(i)`` in n threads (own app context and session each), released
    together; returns (results, exceptions)."""
    db.session.commit()
    barrier = threading.Barrier(n)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=60)
                result = work(i)
                with lock:
                    results.append(result)
            except BaseException as e:  # noqa: BLE001 - every failure is counted
                with lock:
                    errors.append(e)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,), name=f"race-{i}") for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    db.session.rollback()
    return results, errors


def skill_ids(project) -> dict[str, int]:
    """The project's gig's skills, name → id."""
    return dict(db.session.execute(
        select(Skill.name, Skill.id).join(GigSkill, GigSkill.skill_id == Skill.id)
        .where(GigSkill.gig_id == project.gig_id)).all())


def all_skills(project, stars: int = 5) -> dict[int, int]:
    """Stars for every skill of the project's gig (a review's skill ratings)."""
    return {skill_id: stars for skill_id in skill_ids(project).values()}


def age(project: Project, days: float) -> Project:
    """Move the project's completion ``days`` into the past."""
    db.session.execute(update(Project).where(Project.id == project.id)
                       .values(state_changed_at=utcnow() - timedelta(days=days)))
    db.session.commit()
    db.session.expire_all()
    return db.session.get(Project, project.id)


def describe(errors: list[BaseException]) -> str:
    """The distinct errors of a ``race``, one line each, for an assertion message."""
    return "; ".join(sorted({f"{type(e).__name__}: {e}"[:300] for e in errors}))


def fresh(model_or_entity, id_: Any = None):
    """The row as the database has it now: ``fresh(Gig, gig_id)`` or ``fresh(gig)``."""
    if id_ is None:
        entity = model_or_entity
        model, id_ = type(entity), inspect(entity).identity[0]
    else:
        model = model_or_entity
    db.session.rollback()
    return db.session.get(model, id_)


def count(model, *where) -> int:
    """How many rows of ``model`` (matching ``where``) are committed now."""
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def transfer_count() -> int:
    db.session.rollback()  # see what other transactions committed
    return db.session.scalar(select(func.count()).select_from(Transfer))
