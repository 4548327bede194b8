"""The admin dashboard: platform revenue, the money checks, what waits in each queue,
and the site's numbers; the platform's revenue and the commissions as CSV downloads."""

from __future__ import annotations

from flask import current_app, render_template

from offload.accounts.decorators import admin_required
from offload.cases.queries import accountability_counts
from offload.commissions.queries import CommissionRow, commissions_page
from offload.core.csv_export import csv_amount, csv_cell, csv_time, paged_csv
from offload.health import MONEY_CHECKS
from offload.ledger.checks import run_checks
from offload.wallet.queries import (
    RevenueLine,
    count_pending_withdrawals,
    platform_revenue,
    revenue_page,
)

from .blueprint import bp
from .queries import site_numbers


@bp.get("")
@admin_required
def index():
    return render_template("admin/index.html", revenue=platform_revenue(),
                           failures=run_checks(MONEY_CHECKS), checks=len(MONEY_CHECKS),
                           pending=count_pending_withdrawals(), numbers=site_numbers(),
                           **accountability_counts())


REVENUE_CSV_HEADER = ("date", "what", "amount", "currency", "member", "member name", "for",
                      "memo", "transfer id", "batch id")
COMMISSIONS_CSV_HEADER = ("created", "commission id", "project id", "gig", "performer",
                          "referrer", "invoiced", "commission", "platform share",
                          "referrer share", "currency", "state", "due on", "paid",
                          "invoice review")


@bp.get("/revenue.csv")
@admin_required
def revenue_csv():
    """Every movement of the platform's revenue account, newest first, streamed."""
    return paged_csv("offload-revenue", REVENUE_CSV_HEADER, revenue_page, _revenue_row)


@bp.get("/commissions.csv")
@admin_required
def commissions_csv():
    """Every commission, newest first, streamed."""
    return paged_csv("offload-commissions", COMMISSIONS_CSV_HEADER, commissions_page,
                     _commission_row)


def _revenue_row(line: RevenueLine) -> tuple[str, ...]:
    currency = current_app.config["CURRENCY"]
    cause = f"{line.cause_type} #{line.cause_id}" if line.cause_type else ""
    return (csv_time(line.created_at), csv_cell(line.what), csv_amount(line.amount_minor),
            currency, csv_cell(line.member_username), csv_cell(line.member_name),
            csv_cell(cause), csv_cell(line.memo), str(line.id), line.batch_id)


def _commission_row(row: CommissionRow) -> tuple[str, ...]:
    currency = current_app.config["CURRENCY"]
    return (csv_time(row.created_at), str(row.id), str(row.project_id), csv_cell(row.gig_title),
            csv_cell(row.payer_username), csv_cell(row.referrer_username),
            csv_amount(row.invoiced_minor), csv_amount(row.commission_minor),
            csv_amount(row.platform_minor), csv_amount(row.referrer_minor), currency,
            row.state, row.due_on.isoformat(), csv_time(row.paid_at), row.review_state)
