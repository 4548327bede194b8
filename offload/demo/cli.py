"""``flask demo seed`` (the small demo) and ``flask demo generate`` (a large data set)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
from flask.cli import AppGroup

from .data import ADMIN, DEMO_PASSWORD, MEMBERS
from .generate import generate
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


@demo_cli.command("generate")
@click.option("--members", type=click.IntRange(100), default=10_000, show_default=True)
@click.option("--gigs", type=click.IntRange(100), default=100_000, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--report", type=click.Path(dir_okay=False), default=None,
              help="Write what was made (ids for benchmarks) to this JSON file.")
def generate_command(members: int, gigs: int, seed: int, report: str | None) -> None:
    """Fill an empty database with a large realistic data set (for benchmarks)."""
    started = time.perf_counter()
    made = generate(members, gigs, seed=seed, say=lambda line: click.echo(f"  {line}"))
    click.echo(f"Generated {made.members:,} members, {made.gigs:,} gigs, {made.offers:,} "
               f"offers and {made.projects:,} projects in {time.perf_counter() - started:.0f} s."
               f" Log in as {made.login!r} with password '{DEMO_PASSWORD}'.")
    if report:
        Path(report).write_text(json.dumps(made.as_dict()))
