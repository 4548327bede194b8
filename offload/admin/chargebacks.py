"""Deposits taken back (Stripe disputes and refunds), newest first, for admins: the ones
the wallet covered open no case, so this list is where they are seen at all."""

from __future__ import annotations

from flask import render_template, request

from offload.accounts.decorators import admin_required
from offload.cases.queries import cases_of_chargebacks
from offload.wallet.queries import chargebacks_page

from .blueprint import bp


@bp.get("/chargebacks")
@admin_required
def chargebacks():
    page = chargebacks_page(request.args.get("before"))
    return render_template("admin/chargebacks.html", page=page,
                           cases=cases_of_chargebacks([c.id for c in page.items]))
