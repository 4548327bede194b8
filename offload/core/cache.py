"""The fragment cache: HTML of rows that never change (a message, a timeline event) or
that carry a version bumped by every change (a gig, an offer), so a cached fragment is
never stale and nothing has to be invalidated.

Flask-Caching does the work: ``{% cache None, "gig-row", gig.fragment_key %}`` in a
template (its Jinja extension; the key parts must be strings, so a read model offers
one such as ``f"{id}.{version}"``) or ``cache.get``/``cache.set`` in code. By default each
process keeps its own ``SimpleCache`` (versioned keys make that safe with any number of
workers); ``OFFLOAD_CACHE_REDIS_URL`` shares one Redis between every worker and host.

Every key starts with the release's prefix (a digest of the templates and form
modules), so a deploy that changes a template or a form never serves the HTML of the
one before from a shared cache.
A fragment holds nothing that depends on who looks at it: what differs per viewer
(buttons, "yours", a form) stays outside it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from flask import Flask
from flask_caching import Cache
from flask_caching.utils import make_template_fragment_key
from markupsafe import Markup, escape

cache = Cache()

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def init_cache(app: Flask) -> None:
    config = app.config
    if config.get("CACHE_REDIS_URL"):
        config["CACHE_TYPE"] = "RedisCache"
    config.setdefault("CACHE_TYPE", "SimpleCache")
    config["CACHE_KEY_PREFIX"] = f"offload:{templates_digest()}:"
    cache.init_app(app)


def templates_digest() -> str:
    """A short digest of every template's and form module's name and text: the release,
    as the cache sees it (a fresh form's fields are kept as markup, and their labels and
    hints are written in ``forms.py``)."""
    digest = hashlib.blake2b(digest_size=6)
    for path in sorted([*TEMPLATES.rglob("*"), *TEMPLATES.parent.rglob("forms.py")]):
        if path.is_file():
            digest.update(str(path.relative_to(TEMPLATES.parent)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def list_key(rows) -> str:
    """The fragment key of a whole list: a digest of its rows' ``fragment_key``s, in
    order. Any row changed, added, removed or moved makes a new key; one cached list
    costs one cache read where a fragment per row costs one per row.
    ``{% cache None, "matching-gigs", list_key(gigs) %}`` in a template."""
    digest = hashlib.blake2b(digest_size=16)
    for row in rows:
        digest.update(row.fragment_key.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def stitch_mark() -> Markup:
    """A mark for ``stitch``, new for each cached fragment that uses it: random, so no
    text a member wrote into the fragment can pass for one."""
    return Markup(f"\x1f{secrets.token_hex(8)}\x1f")


_MARK_LENGTH = len(stitch_mark())


def stitch(fragment: str, values: Sequence) -> Markup:
    """A cached ``fragment`` that starts with its ``stitch_mark()`` and holds that mark
    where a value changes without its rows (a place, a viewer's count, "… ago"), with
    ``values`` put in at the marks, in order (escaped, unless Markup)."""
    mark, body = fragment[:_MARK_LENGTH], fragment[_MARK_LENGTH:]
    parts = body.split(mark)
    if len(parts) != len(values) + 1:
        raise ValueError(f"{len(parts) - 1} marks for {len(values)} values")
    out = [parts[0]]
    for value, part in zip(values, parts[1:], strict=True):
        out.append(escape(value))
        out.append(part)
    return Markup("".join(out))


def cached_fragments(name: str, keys: Iterable[str]) -> dict[str, Markup]:
    """The kept HTML of the fragments ``{% cache None, name, key %}`` for these keys that
    the cache holds, in one call: a list of 50 rows asks once (one round trip to Redis)
    instead of once a row. A row whose key is not in the answer renders its own
    ``{% cache %}`` block, which keeps it. A cache that fails answers nothing (the page
    is rendered uncached, as the ``{% cache %}`` tag does)."""
    keys = list(keys)
    if not keys:
        return {}
    try:
        found = cache.get_many(*(make_template_fragment_key(name, [key]) for key in keys))
    except Exception:  # the cache is an optimisation, never a failure
        return {}
    return {key: html for key, html in zip(keys, found, strict=True) if html is not None}


class NeverEdited:
    """A read model of a row that is never edited (a message, a timeline event), as a
    frozen dataclass with ``id`` and ``created_at``: its fragment key is its id, and its
    creation time, which tells apart an id that SQLite gave again after a delete."""

    __slots__ = ()
    id: int
    created_at: datetime

    @property
    def fragment_key(self) -> str:
        return f"{self.id}.{self.created_at.timestamp()}"
