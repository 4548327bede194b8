"""``flask demo generate``: a large data set for the benchmarks, money consistent."""

import json

from sqlalchemy import func, select

from offload.accounts.models import User
from offload.conversations.queries import inbox_page
from offload.core.db import db
from offload.gigs.models import Gig
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks
from offload.notifications.models import OutboxEmail
from offload.offers.models import Offer
from offload.projects.models import Project, ProjectEvent


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_generate_fills_an_empty_database_and_the_ledger_holds(app, tmp_path):
    report = tmp_path / "made.json"
    result = app.test_cli_runner().invoke(args=[
        "demo", "generate", "--members", "300", "--gigs", "2000", "--report", str(report)])
    assert result.exit_code == 0, result.output
    made = json.loads(report.read_text())
    assert _count(User) == made["members"] == 300 and _count(Gig) == 2001  # + the showcase
    assert _count(Offer) == made["offers"] and made["offers"] > 50
    assert _count(Offer, Offer.gig_id == made["showcase_gig_id"]) == 50
    assert _count(ProjectEvent, ProjectEvent.project_id == made["showcase_project_id"]) >= 500
    showcase = db.session.get(Project, made["showcase_project_id"])
    [line] = [c for c in inbox_page(showcase.performer_id).items
              if c.offer_id == showcase.offer_id]  # the parties' inboxes have its messages
    assert line.project_id == showcase.id and line.unread > 0
    assert _count(OutboxEmail, OutboxEmail.sent_at.is_(None)) == 0  # made-up addresses
    offer_gigs = db.session.scalars(select(Gig).where(Gig.id.in_(made["offer_gig_ids"])))
    assert all(g.state == "open" and g.kind == "task" for g in offer_gigs)
    assert run_checks(MONEY_CHECKS) == []
    again = app.test_cli_runner().invoke(args=["demo", "generate", "--members", "300",
                                               "--gigs", "2000"])
    assert again.exit_code != 0 and "empty database" in str(again.exception)
