"""Who may do what with a gig."""

from __future__ import annotations

from offload.core.db import utcnow
from offload.gigs import policies
from offload.gigs.models import Gig, GigState, Question


def gig(poster_id: int = 1, state: str = "open", kind: str = "referral") -> Gig:
    return Gig(id=10, poster_id=poster_id, state=state, kind=kind)


def test_why_cannot_post(make_member):
    assert policies.why_cannot_post(make_member()) is None
    assert "Confirm your e-mail" in policies.why_cannot_post(make_member(confirmed=False))


def test_drafts_are_seen_by_their_poster_and_admins_only(make_member):
    poster, other, admin = make_member(), make_member(), make_member(admin=True)
    draft = gig(poster.id, "draft")
    assert policies.can_view_gig(draft, poster) and policies.can_view_gig(draft, admin)
    assert not policies.can_view_gig(draft, other)
    assert not policies.can_view_gig(draft, None)
    for state in set(GigState) - {GigState.DRAFT}:
        assert policies.can_view_gig(gig(poster.id, state), other)
        assert not policies.can_view_gig(gig(poster.id, state), None)


def test_client_details_are_for_the_referrer_and_admins(make_member):
    poster, other, admin = make_member(), make_member(), make_member(admin=True)
    referral = gig(poster.id)
    assert policies.can_see_client_details(referral, poster)
    assert policies.can_see_client_details(referral, admin)
    assert not policies.can_see_client_details(referral, other)
    assert not policies.can_see_client_details(referral, None)
    assert not policies.can_see_client_details(gig(poster.id, kind="task"), poster)


def test_editing_and_attaching_are_for_the_poster_while_draft_or_open(make_member):
    poster, other = make_member(), make_member()
    for state in GigState:
        reason = policies.why_cannot_edit(gig(poster.id, state), poster)
        attach = policies.why_cannot_attach(gig(poster.id, state), poster)
        if state in (GigState.DRAFT, GigState.OPEN):
            assert reason is None and attach is None
        else:
            assert "can't be changed any more" in reason and "only be added" in attach
    assert "Only the member who posted" in policies.why_cannot_edit(gig(poster.id), other)
    assert "Only the member who posted" in policies.why_cannot_attach(gig(poster.id), other)


def test_publishing_and_cancelling(make_member):
    poster, other, admin = make_member(), make_member(), make_member(admin=True)
    assert policies.why_cannot_publish(gig(poster.id, "draft"), poster) is None
    assert "already published" in policies.why_cannot_publish(gig(poster.id), poster)
    assert "Only the member who wrote" in policies.why_cannot_publish(gig(poster.id, "draft"),
                                                                      other)
    assert policies.why_cannot_cancel(gig(poster.id), poster) is None
    assert policies.why_cannot_cancel(gig(poster.id), admin) is None
    assert "Only the member who posted" in policies.why_cannot_cancel(gig(poster.id), other)
    assert "Only an open gig" in policies.why_cannot_cancel(gig(poster.id, "awarded"), poster)


def test_asking_and_answering(make_member):
    poster, other = make_member(), make_member()
    assert policies.why_cannot_ask(gig(poster.id), other) is None
    assert "your own gig" in policies.why_cannot_ask(gig(poster.id), poster)
    assert "Confirm" in policies.why_cannot_ask(gig(poster.id), make_member(confirmed=False))
    assert "while the gig is open" in policies.why_cannot_ask(gig(poster.id, "awarded"), other)
    question = Question(id=1, gig_id=10, asker_id=other.id, body="?")
    assert policies.why_cannot_answer(question, gig(poster.id), poster) is None
    assert "Only the member who posted" in policies.why_cannot_answer(question, gig(poster.id),
                                                                      other)
    question.answered_at, question.answer = utcnow(), "Yes"
    assert "already been answered" in policies.why_cannot_answer(question, gig(poster.id),
                                                                 poster)
