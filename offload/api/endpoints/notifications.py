"""The member's notifications: the list, and marking them read."""

from __future__ import annotations

from offload.notifications.queries import notifications_page
from offload.notifications.services import mark_all_notifications_read

from ..blueprint import LINK_HEADER, READ, bp, needs
from ..paging import paged
from ..schemas.common import CursorQuery
from ..schemas.notifications import MarkedReadSchema, NotificationPageSchema


@bp.route("/notifications", tags=["notifications"])
@needs(READ)
@bp.arguments(CursorQuery, location="query", as_kwargs=True)
@bp.response(200, NotificationPageSchema, headers=LINK_HEADER)
def notifications(member, cursor: str | None = None, limit: int | None = None):
    """The member's notifications, newest first"""
    page = notifications_page(member.id, cursor, size=limit)
    return paged(page.items, page.next_cursor)


@bp.route("/notifications/read", methods=["POST"], tags=["notifications"])
@needs(READ)
@bp.response(200, MarkedReadSchema)
def read_notifications(member):
    """Mark every notification of the member read"""
    return {"marked": mark_all_notifications_read(actor=member)}
