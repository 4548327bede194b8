"""Reading a member's alerts."""

from __future__ import annotations

from sqlalchemy import select

from offload.core.db import db
from offload.core.pagination import Page, newest_first

from .models import Alert


def alerts_page(member_id: int, cursor: str | None, *, including: int | None = None) -> Page:
    """The member's alerts, newest first, a page at a time (one query). ``including``:
    an alert that must be on the page (the one whose form is shown with errors)."""
    stmt = select(Alert).where(Alert.user_id == member_id)
    page = newest_first(stmt, Alert, cursor)
    if including is not None and all(a.id != including for a in page.items):
        page.items.insert(0, db.session.get(Alert, including))
    return page
