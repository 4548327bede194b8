"""What ``create_app`` registers: the admin blueprint with every subject's routes.

Importing each module adds its routes to ``bp``; the list is explicit, so a new
subject module is one more name here.
"""

from __future__ import annotations

from . import (
    cases,
    chargebacks,
    contact,
    conversations,
    dashboard,
    disputes,
    tree,
    webhooks,
    withdrawals,
)
from .blueprint import bp

SUBJECTS = (dashboard, withdrawals, disputes, conversations, cases, tree, contact, webhooks,
            chargebacks)

__all__ = ["SUBJECTS", "bp"]
