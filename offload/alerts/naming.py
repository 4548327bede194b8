"""A short, readable name for a board search, used when a member doesn't name an alert."""

from __future__ import annotations

from offload.core.money import format_amount
from offload.gigs.filters import BoardFilters


def describe(filters: BoardFilters, max_chars: int | None = None) -> str:
    """"python api · tasks · skills: django, flask · budget 100.00–500.00 · due by 2027-03-01"."""
    parts: list[str] = []
    if filters.q:
        parts.append(" ".join(filters.q.split()))
    if filters.kind:
        parts.append(f"{filters.kind.value}s")
    if filters.category:
        parts.append(filters.category.label)
    if filters.skills:
        parts.append("skills: " + ", ".join(filters.skills))
    low, high = filters.budget_min_minor, filters.budget_max_minor
    if low is not None and high is not None:
        parts.append(f"budget {format_amount(low)}–{format_amount(high)}")
    elif low is not None:
        parts.append(f"budget from {format_amount(low)}")
    elif high is not None:
        parts.append(f"budget up to {format_amount(high)}")
    if filters.due_by:
        parts.append(f"due by {filters.due_by.isoformat()}")
    text = " · ".join(parts) or "All new gigs"
    if max_chars is not None and len(text) > max_chars:  # cut at a word, and say so
        text = text[:max_chars - 1].rsplit(" ", 1)[0].rstrip(" ·,–") + "…"
    return text
