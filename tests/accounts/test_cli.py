from sqlalchemy import select

from offload.accounts.models import User
from offload.core.db import db


def test_create_admin_command(app):
    result = app.test_cli_runner().invoke(args=[
        "accounts", "create-admin", "--username", "root", "--email", "root@example.com",
        "--password", "a long admin passphrase"])
    assert result.exit_code == 0, result.output
    admin = db.session.scalar(select(User).where(User.username == "root"))
    assert admin.is_admin and admin.is_confirmed


def test_create_admin_refuses_a_weak_password(app):
    result = app.test_cli_runner().invoke(args=[
        "accounts", "create-admin", "--username", "root", "--email", "root@example.com",
        "--password", "password"])
    assert result.exit_code != 0 and "at least 10" in result.output
    assert db.session.scalar(select(User)) is None
