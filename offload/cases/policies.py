"""Who may see a case."""

from __future__ import annotations

from offload.accounts.models import User

from .models import Case


def can_view_case(case: Case, subject: User, viewer: User | None) -> bool:
    """The subject, the member who invited them (they answer for them) and admins."""
    return viewer is not None and (viewer.is_admin or viewer.id == case.subject_id
                                   or viewer.id == subject.invited_by_id)
