"""The admin dashboard: platform revenue, the money checks, what waits in each queue,
and the site's numbers."""

from __future__ import annotations

from flask import render_template

from offload.accounts.decorators import admin_required
from offload.cases.queries import accountability_counts
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks
from offload.wallet.queries import count_pending_withdrawals, platform_revenue

from .blueprint import bp
from .queries import site_numbers


@bp.get("")
@admin_required
def index():
    return render_template("admin/index.html", revenue=platform_revenue(),
                           failures=run_checks(MONEY_CHECKS), checks=len(MONEY_CHECKS),
                           pending=count_pending_withdrawals(), numbers=site_numbers(),
                           **accountability_counts())
