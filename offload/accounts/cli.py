"""``flask accounts ...``: the same services the web uses."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from offload.core.errors import OffloadError

from .services import create_admin

accounts_cli = AppGroup("accounts", help="Member accounts.")


@accounts_cli.command("create-admin")
@click.option("--username", prompt=True, help="The admin's username.")
@click.option("--email", prompt=True, help="The admin's e-mail address.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Prompted for when not given (keep it out of shell history).")
def create_admin_command(username: str, email: str, password: str) -> None:
    """Create an admin: a root of the invite tree."""
    try:
        user = create_admin(username=username, email=email, password=password)
    except OffloadError as e:
        raise click.ClickException(str(e)) from e
    click.echo(f"Created admin {user.username} <{user.email}> (id {user.id}).")
