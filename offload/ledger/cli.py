"""``flask ledger check``: recompute every account and check every invariant."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from offload.health import MONEY_CHECKS

from .checks import run_checks

ledger_cli = AppGroup("ledger", help="The money ledger.")


@ledger_cli.command("check")
def check_command() -> None:
    """Exit non-zero, naming each broken invariant and its accounts, if anything is off."""
    failures = run_checks(MONEY_CHECKS)
    for failure in failures:
        click.echo(str(failure), err=True)
    if failures:
        click.echo(f"ledger check FAILED: {len(failures)} problem(s)", err=True)
        sys.exit(1)
    click.echo(f"ledger check passed: {len(MONEY_CHECKS)} checks, all invariants hold")
