"""What a notification is about: its *subject*, stored on the row and shown with the
title (in the list, in the e-mail's subject line and body), so every notice about a
gig, an offer on it or its project names the gig, whatever its title says.

``notify()`` takes the subject from its caller, or else from its link: a link into a
section of the site (``/projects/12#milestones``) is resolved by the function that
section registered, one query. Features register in ``create_app``
(``register_subject("projects", title_of_project)``), so this package imports none
of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_SECTION = re.compile(r"/([a-z_-]+)/(\d+)(?=$|[/?#])")
_resolvers: dict[str, Callable[[int], str | None]] = {}


def register_subject(section: str, resolve: Callable[[int], str | None]) -> None:
    """``resolve(id)`` names what ``/<section>/<id>`` is about (None: nothing)."""
    _resolvers[section] = resolve


def subject_of(link: str | None) -> str | None:
    """The subject of a notification linking to ``link``: one query, or none when no
    section registered for it."""
    found = _SECTION.match(link or "")
    resolve = _resolvers.get(found.group(1)) if found else None
    return resolve(int(found.group(2))) if resolve else None
