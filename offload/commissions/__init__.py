"""Commissions: how a referral project settles. ``models`` (design note there),
``services`` (complete, pay, the reminder and overdue jobs), ``checks`` (invariant 10),
``queries``."""
