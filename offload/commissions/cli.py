"""``flask commissions overdue``: the commissions past their due day, for admins."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from offload.core.money import format_money

from .queries import overdue_commissions

commissions_cli = AppGroup("commissions", help="Referral commissions.")


@commissions_cli.command("overdue")
def overdue_command() -> None:
    """List the commissions past their due day (oldest first); exit 1 if there are any."""
    rows = overdue_commissions()
    for c, payer, project_title in rows:
        click.echo(f"commission {c.id}: {format_money(c.commission_minor, c.currency)} "
                   f"owed by {payer} since {c.due_on.isoformat()} (project {c.project_id}, "
                   f"“{project_title}”)")
    click.echo(f"{len(rows)} overdue commission(s)")
    raise SystemExit(1 if rows else 0)
