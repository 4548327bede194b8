"""Who may see what in the wallet (read-only rules, importable from anywhere)."""

from __future__ import annotations

from offload.accounts.models import User

from .models import Deposit, Withdrawal


def can_view(user: User, row: Deposit | Withdrawal) -> bool:
    """A deposit or withdrawal is seen by its member and by admins; others get 404."""
    return user.is_authenticated and (row.member_id == user.id or user.is_admin)
