from sqlalchemy import func, select

from offload.accounts.models import User
from offload.accounts.services import authenticate
from offload.core.db import db
from offload.demo.data import DEMO_PASSWORD, MEMBERS
from offload.wallet.queries import wallet_summary


def test_seed_builds_an_invite_tree_and_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    assert f"created {len(MEMBERS) + 1} member" in first.output
    count = db.session.scalar(select(func.count()).select_from(User))
    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0 and "already there" in second.output
    assert db.session.scalar(select(func.count()).select_from(User)) == count
    bob = db.session.scalar(select(User).where(User.username == "bob"))
    alice = db.session.scalar(select(User).where(User.username == "alice"))
    assert bob.invited_by_id == alice.id and bob.is_confirmed
    assert authenticate("admin", DEMO_PASSWORD).is_admin
    assert wallet_summary(alice.id).available == 50_00  # funded once, not twice


def test_demo_profiles_render(app, client, login):
    app.test_cli_runner().invoke(args=["demo", "seed"])
    login(db.session.scalar(select(User).where(User.username == "alice")),
          password=DEMO_PASSWORD)
    page = client.get("/members/bob").get_data(as_text=True)
    assert "Front-end and design systems" in page and "Alice Moreau" in page
