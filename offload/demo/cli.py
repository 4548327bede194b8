"""``flask demo seed``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from .data import ADMIN, DEMO_PASSWORD, MEMBERS
from .services import seed_demo

demo_cli = AppGroup("demo", help="Demo data for trying Offload out.")


@demo_cli.command("seed")
def seed_command() -> None:
    """Create the demo admin, members and gigs (idempotent) and print the log-ins."""
    seeded = seed_demo()
    if seeded.members or seeded.gigs:
        click.echo(f"Demo data: created {len(seeded.members)} member(s) and "
                   f"{len(seeded.gigs)} gig(s) with their questions and offers.")
    else:
        click.echo("Demo data: already there.")
    click.echo(f"Log in at http://127.0.0.1:5000/login with password '{DEMO_PASSWORD}' as:")
    click.echo(f"  {ADMIN['username']:<8} (admin)")
    for spec in MEMBERS:
        click.echo(f"  {spec['username']:<8} invited by {spec['inviter']}")
