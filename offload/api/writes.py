"""What the write endpoints share: loading the thing first, the body's field names in a
service's refusal, and the ``Location`` of what a write created.

Loading (and authorizing) the thing an endpoint acts on comes before its body is read.

A page loads its object first (``offer_for``, ``gig_for``: a 404 for what the member may
not see) and reads its form after; flask-smorest reads a body (``@bp.arguments``) before
the view runs, so an outsider would learn of a bad body (422) where the page says
"not found". ``@loads(load)`` goes between ``@needs`` and ``@bp.arguments``::

    @bp.route("/offers/<int:offer_id>/terms", methods=["POST"], tags=["offers"])
    @needs(OFFERS)
    @loads(lambda member, offer_id: {"offer": offer_for(member, offer_id)})
    @bp.arguments(TermsBody)
    def propose(member, body, offer): ...

``load(member, **path_values)`` answers the view's keyword arguments in place of the
path's values, or raises NotFound.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from functools import wraps
from typing import Any

from flask import url_for

from offload.core.errors import InvalidField

from .blueprint import problem_response

# the Location header of a write that created something (201)
LOCATION_HEADER = {"Location": {"description": "Where the thing made is read",
                                "schema": {"type": "string", "format": "uri-reference"}}}


def loads(load: Callable[..., dict[str, Any]]):
    """The view gets what ``load(member, **path_values)`` answers, loaded first."""

    def decorate(view):
        @wraps(view)
        def wrapped(member, *args, **path_values):
            return view(member, *args, **load(member, **path_values))

        return wrapped

    return decorate


def refusable(view):
    """Document a service's refusals (``problems.py``): 409 when the thing's state is in
    the way, 422 when a rule or a field refuses."""
    view = problem_response(409, "Refused: the thing's state is in the way (it changed, "
                                 "or is no longer open)")(view)
    return problem_response(422, "Refused by a rule, or invalid fields (listed)")(view)


@contextmanager
def body_names(names: dict[str, str]):
    """A service's ``InvalidField`` named as the body names the field (``price`` →
    ``price_minor``), so a problem's ``errors`` point into the request sent."""
    try:
        yield
    except InvalidField as error:
        error.field = names.get(error.field, error.field)
        raise


def created(body: Any, endpoint: str, **values: Any) -> tuple[Any, int, dict[str, str]]:
    """A 201 with ``body`` and the Location of ``endpoint`` (an API endpoint's name)."""
    return body, 201, {"Location": url_for(endpoint, **values)}
