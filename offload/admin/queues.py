"""What the admin queues share: a page of items in which a form an admin sent and got
refused stays in view, with what was typed and why, even when its item has moved off
the page meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import render_template

from offload.core.pagination import Page


def kept_in_view(page: Page, item_id: int | None, load: Callable[[int], Any]) -> list:
    """The page's items, with item ``item_id`` (read with ``load``) put first when it is
    not among them, so its refused form is shown; ``None`` keeps the page as it is."""
    items = list(page.items)
    if item_id is not None and item_id not in {item.id for item in items}:
        item = load(item_id)
        if item is not None:
            items.insert(0, item)
    return items


def render_queue(template: str, page: Page, failed: tuple | None, failed_id: int | None,
                 load: Callable[[int], Any], **context):
    """A queue page: ``page``'s items (``items``, with ``failed_id``'s kept in view),
    ``failed`` (what the template needs to show the refused form again) and ``context``;
    a 422 when a form was refused."""
    items = kept_in_view(page, failed_id, load)
    return render_template(template, page=page, items=items, failed=failed, **context), (
        422 if failed else 200)
