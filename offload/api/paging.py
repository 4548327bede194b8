"""Cursor pagination for the API: a page's items, the URL of the next page in the body
(``next``) and in a ``Link: <…>; rel="next"`` header.

The cursor is the one the pages use (the board's keyset cursor, ``core.pagination``'s
for newest-first lists): opaque to clients, who only ever follow ``next``. The next
URL is this request's, with every argument kept and ``cursor`` replaced, built from
CANONICAL_URL (never the request's Host header).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import current_app, request


def paged(items: list[Any], next_cursor: str | None) -> tuple[dict, int, dict[str, str]]:
    """What a list endpoint returns: ``({"items", "next"}, 200, headers)``."""
    if not next_cursor:
        return {"items": items, "next": None}, 200, {}
    return _with_next(items, "cursor", next_cursor)


def polled(items: list[Any], since: int) -> tuple[dict, int, dict[str, str]]:
    """What a feed read with ``since`` returns (``SinceQuery``: items oldest first, each
    with an ``id``): ``next`` is always there, after the last item (or at ``since`` when
    nothing came), so a script follows it now for more and polls it later for news."""
    return _with_next(items, "since", str(items[-1].id if items else since))


def _with_next(items: list[Any], name: str, value: str) -> tuple[dict, int, dict[str, str]]:
    args = [(key, arg) for key, arg in request.args.items(multi=True) if key != name]
    args.append((name, value))
    # this request's own path: no endpoint to build (CANONICAL_URL holds any script root)
    next_url = f"{current_app.config['CANONICAL_URL'].rstrip('/')}{request.path}?{urlencode(args)}"
    return {"items": items, "next": next_url}, 200, {"Link": f'<{next_url}>; rel="next"'}
