"""A member as lists show them: a read model, no ORM entity (see ``MemberName``)."""

from __future__ import annotations

from typing import NamedTuple


class MemberName(NamedTuple):
    """Who posted a gig or sent an offer, as a row of a list shows them: a link to the
    profile (``username``) and the name members read. Plain values, so the JSON API
    serializes it as it is."""

    id: int
    username: str
    display_name: str

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @property
    def stamp(self) -> str:
        """What a cached fragment showing this name is keyed by: a changed name is a
        new key, never a stale fragment."""
        return f"{self.username}/{self.display_name}"
