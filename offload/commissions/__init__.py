"""Commissions: how a referral project settles.

``models`` (design note there), ``services`` (complete, pay, the invoice review and
its correction, the reminder, overdue and review-window jobs), ``checks`` (invariant
10), ``queries``, ``policies``, ``cli`` (``flask commissions overdue``). Calls the
``ledger`` (one batch per commission), ``projects`` (completion, timeline) and
``notifications``. Called by the project page (``projects.views``), ``cases`` (an
admin's correction of a contested invoice), the jobs, the admin dashboard and the
money check (``offload.health``). No views of its own.
"""
