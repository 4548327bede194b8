"""Commissions: how a referral project settles. ``models`` (design note there),
``services`` (complete, pay, the invoice review and its correction, the reminder,
overdue and review-window jobs), ``checks`` (invariant 10), ``queries``."""
