"""The member the token speaks for."""

from __future__ import annotations

from offload.accounts.models import TokenScope

from ..auth import require_token
from ..blueprint import READ, Joined, bp, needs
from ..schemas.members import MeSchema

_SCOPE_ORDER = [scope.value for scope in TokenScope]


@bp.route("/me", tags=["members"])
@needs(READ)
@bp.response(200, MeSchema)
def me(member):
    """The member the token speaks for"""
    return Joined(member, scopes=sorted(require_token().scopes, key=_SCOPE_ORDER.index))
