"""A member's standing: may they start new work now? Asked below cases, answered by cases.

While a case about a member (or about a member they invited) is open, that member may
not post gigs, make offers or send invites (``offload.cases.hook``), and the invite
tree shows the open cases in each branch. Cases sit above gigs, offers and invites (a
case's resolution cancels gigs, withdraws offers, revokes invites), so the policies of
those packages cannot import it. They ask here, and ``create_app`` installs the answers
(``install_standing``), as it registers notification subjects. Until then the questions
raise instead of answering "in good standing".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Select

    from .models import User


@dataclass(frozen=True)
class Standing:
    # the member-facing reason ``member`` may not do ``doing`` ("send invites") now, or
    # None; the reason may carry more (cases: the ``case_id`` pages link to)
    why_on_the_hook: Callable[[User, str], str | None]
    # a select of member ids, one row per open case about that member
    open_case_subjects: Callable[[], Select]


_standing: Standing | None = None


def install_standing(standing: Standing) -> None:
    global _standing
    _standing = standing


def why_on_the_hook(member: User, doing: str) -> str | None:
    """Why ``member`` may not ``doing`` now because of an open case, or None."""
    return _installed().why_on_the_hook(member, doing)


def open_case_subjects() -> Select:
    """The ids of members with an open case about them, one row per case."""
    return _installed().open_case_subjects()


def _installed() -> Standing:
    if _standing is None:
        raise RuntimeError("No member standing installed: create_app() installs it "
                           "(offload.cases.hook).")
    return _standing
