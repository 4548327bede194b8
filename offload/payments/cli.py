"""``flask payments reconcile --since DATE``: the ledger's Stripe movements against
Stripe's balance transactions, for cron (the README has the line)."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click
import stripe
from flask import current_app
from flask.cli import AppGroup

from .reconcile import reconcile

payments_cli = AppGroup("payments", help="The payment provider (Stripe).")


@payments_cli.command("reconcile")
@click.option("--since", required=True, type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
              help="Compare what happened from this day (UTC), or this time, on.")
def reconcile_command(since: datetime) -> None:
    """Print every mismatch, one a line, then a summary; exit 1 if there is one (2 if
    Stripe could not be asked)."""
    if not current_app.config["STRIPE_SECRET_KEY"]:
        click.echo("reconcile FAILED: OFFLOAD_STRIPE_SECRET_KEY is not set", err=True)
        sys.exit(2)
    try:
        report = reconcile(since.replace(tzinfo=UTC))
    except stripe.StripeError as error:
        click.echo(f"reconcile FAILED: could not list Stripe's balance transactions: "
                   f"{error}", err=True)
        sys.exit(2)
    for mismatch in report.mismatches:
        click.echo(str(mismatch))
    click.echo(report.summary(current_app.config["CURRENCY"]))
    if report.mismatches:
        sys.exit(1)
