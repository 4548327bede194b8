"""Links into the site, built from endpoint names, for notifications and e-mails.

A notification stores a path on this site (``site_path("projects.show", project_id=3,
_anchor="timeline")`` → ``"/projects/3#timeline"``); an e-mail needs the absolute
address on ``CANONICAL_URL`` (``external_url``), never the request's Host. Neither is
ever written out as a string: a renamed or moved route then fails when the link is
built (werkzeug's ``BuildError``) and in ``tests/core/test_links.py``, which checks
every endpoint named here exists, instead of sending members a dead link.

Both work in an app context without a request (jobs, CLI), since they bind their own
URL adapter. Values the route doesn't take become the query string, as with
``url_for``.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote, urlsplit

from flask import current_app, request, url_for

# a record id no table reaches (ids stop at 2**31 - 1): it marks where the value goes
_PLACEHOLDER = 9_876_543_210_123

# what url_for leaves unquoted in an anchor
_ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"


def site_path(endpoint: str, *, _anchor: str | None = None, _query: str | None = None,
              **values) -> str:
    """The path of ``endpoint`` on this site, from its root ("/gigs/3#question-7").

    ``_query`` is a query string already encoded (a saved board search), appended as is.
    Raises werkzeug's BuildError for an unknown endpoint or missing values.
    """
    adapter = current_app.url_map.bind("", script_name="/")
    path = adapter.build(endpoint, values)
    if _query:
        path += ("&" if "?" in path else "?") + _query
    if _anchor:
        path += "#" + quote(_anchor, safe=_ANCHOR_SAFE)
    return path


def external_url(endpoint: str, *, _query: str | None = None, **values) -> str:
    """An absolute link for e-mails, built from CANONICAL_URL, never the request's Host.
    ``_query``, as for ``site_path``: an encoded query string, appended when not empty."""
    base = urlsplit(current_app.config["CANONICAL_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                       url_scheme=base.scheme)
    url = adapter.build(endpoint, values, force_external=True)
    if _query:
        url += ("&" if "?" in url else "?") + _query
    return url


def path_maker(endpoint: str, argument: str) -> Callable[[object], str]:
    """A function that makes the path of ``endpoint`` for one value of its one integer
    ``argument``, with ``url_for`` called once: a list of 50 rows builds its links by
    joining strings instead of routing each one (``url_for`` costs ~4 µs a call).

    In templates: ``{% set gig_path = path_maker("gigs.show", "gig_id") %}`` then
    ``gig_path(gig.id)``. Only for routes whose argument is an ``int`` (the path then
    holds the placeholder's digits once, where the id goes).
    """
    built = url_for(endpoint, **{argument: _PLACEHOLDER})
    head, found, tail = built.partition(str(_PLACEHOLDER))
    if not found or str(_PLACEHOLDER) in tail:
        raise ValueError(f"{endpoint}: {argument} is not one path segment")
    return lambda value: f"{head}{int(value)}{tail}"


class PathMakers(dict):
    """``path_maker`` for each (endpoint, argument) a list asks for, made on first use: a
    list whose rows link to pages of several kinds (a wallet's history: deposits,
    withdrawals, offers) calls ``url_for`` once a kind, not once a row. In templates:
    ``{% set paths = path_makers() %}`` then ``paths[(endpoint, argument)](value)``."""

    def __missing__(self, key: tuple[str, str]) -> Callable[[object], str]:
        made = self[key] = path_maker(*key)
        return made


def fixed_path(endpoint: str, **values: str) -> str:
    """``url_for(endpoint, **values)`` for a link that is the same on every page (the
    layout's menu, stylesheet and script), built once per app and script root, then
    kept: the layout names about twenty on every page view (~4 µs a ``url_for``).
    Only for endpoints and values written in a template, so the kept set stays small.
    """
    kept = current_app.extensions.setdefault("offload.fixed_paths", {})
    key = (request.script_root, endpoint, *values.items())
    path = kept.get(key)
    if path is None:
        path = kept[key] = url_for(endpoint, **values)
    return path
