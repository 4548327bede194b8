"""Invariant 11: each member's unread notifications counter equals their unread rows.

``User.unread_notifications`` is what the top bar shows on every page; ``notify()`` and
the read marks keep it (``notifications.services._count_unread``). The check lives here,
above both the member and the notifications, in the ledger checks' shape
(``() -> list[Failure]``), and is listed in ``offload.health.MONEY_CHECKS``, so ``flask
ledger check`` and the tests' after-test check run it.
"""

from __future__ import annotations

from sqlalchemy import func, select

from offload.core.db import db
from offload.ledger.checks import Check, Failure
from offload.notifications.models import Notification

from .models import User

INVARIANT = 11


def check_unread_notification_counters() -> list[Failure]:
    """11. Every member's unread notifications counter equals the COUNT of their unread
    notifications."""
    unread = (select(Notification.user_id, func.count().label("n"))
              .where(Notification.read_at.is_(None)).group_by(Notification.user_id).subquery())
    counted = func.coalesce(unread.c.n, 0)
    rows = db.session.execute(
        select(User.id, User.unread_notifications, counted.label("counted"))
        .outerjoin(unread, unread.c.user_id == User.id)
        .where(User.unread_notifications != counted)
        .order_by(User.id)).all()
    return [Failure(INVARIANT, "unread counter matches its rows",
                    f"member {r.id}: unread notifications counter {r.unread_notifications}, "
                    f"{r.counted} unread rows") for r in rows]


COUNTER_CHECKS: tuple[Check, ...] = (check_unread_notification_counters,)
