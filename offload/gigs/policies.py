"""Who may do what with a gig. Each ``why_cannot_*`` returns the member-facing reason,
or None when allowed; services raise ``NotAllowed`` or ``Conflict`` with it and views
use the same functions to decide which buttons to show."""

from __future__ import annotations

from offload.accounts.models import User
from offload.accounts.standing import why_on_the_hook

from .models import Gig, GigKind, GigState, Question

EDITABLE_STATES = frozenset({GigState.DRAFT, GigState.OPEN})


def why_cannot_post(actor: User) -> str | None:
    """Why the member may not post (or publish) a gig now: unconfirmed, or on the hook
    (an open case about them or a member they invited)."""
    if not actor.is_confirmed:
        return "Confirm your e-mail address before posting a gig."
    return why_on_the_hook(actor, "post gigs")


def can_view_gig(gig: Gig, viewer: User | None) -> bool:
    """Drafts are seen by their poster and admins only; every other gig by all members."""
    if gig.state != GigState.DRAFT:
        return viewer is not None
    return viewer is not None and (viewer.id == gig.poster_id or viewer.is_admin)


def can_see_client_details(gig: Gig, viewer: User | None) -> bool:
    """The referrer (poster), admins, and the performer once they accepted the award
    (not before: a member who turns the award down never learns who the client is)."""
    if viewer is None or gig.kind != GigKind.REFERRAL:
        return False
    return viewer.id in (gig.poster_id, gig.performer_id) or viewer.is_admin


def why_cannot_edit(gig: Gig, actor: User) -> str | None:
    if actor.id != gig.poster_id:
        return "Only the member who posted this gig can change it."
    if gig.state not in EDITABLE_STATES:
        return f"This gig can't be changed any more: it is {GigState(gig.state).label.lower()}."
    return None


def why_cannot_publish(gig: Gig, actor: User) -> str | None:
    if actor.id != gig.poster_id:
        return "Only the member who wrote this draft can publish it."
    if gig.state != GigState.DRAFT:
        return "This gig is already published."
    return why_cannot_post(actor)


def why_cannot_cancel(gig: Gig, actor: User) -> str | None:
    if actor.id != gig.poster_id and not actor.is_admin:
        return "Only the member who posted this gig can cancel it."
    if gig.state != GigState.OPEN:
        return "Only an open gig can be cancelled."
    return None


def why_cannot_attach(gig: Gig, actor: User) -> str | None:
    if actor.id != gig.poster_id:
        return "Only the member who posted this gig can add files to it."
    if gig.state not in EDITABLE_STATES:
        return "Files can only be added while the gig is a draft or open."
    return None


def why_cannot_ask(gig: Gig, actor: User) -> str | None:
    if not actor.is_confirmed:
        return "Confirm your e-mail address before asking questions."
    if actor.id == gig.poster_id:
        return "This is your own gig: add what people need to know to its description."
    if gig.state != GigState.OPEN:
        return "Questions can only be asked while the gig is open."
    return None


def why_cannot_answer(question: Question, gig: Gig, actor: User) -> str | None:
    if actor.id != gig.poster_id:
        return "Only the member who posted this gig can answer its questions."
    if question.answered_at is not None:
        return "This question has already been answered."
    return None
