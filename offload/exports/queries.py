"""Reads for exports: the settings page's export, the mailed link's check, and what goes
into the archive.

The archive holds what the member sees on the site and no more: their own rows in
full; of other members, only the username and display name the site shows beside
their words (never an e-mail address); other members' messages and timeline notes
only where the member is a party. Each read answers plain, immutable records (Core
rows, or tuples of them) that ``builder`` writes as JSON.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Row, and_, case, or_, select
from sqlalchemy.orm import aliased
from werkzeug.exceptions import NotFound

from offload.accounts.models import User
from offload.accounts.queries import SignedIn
from offload.conversations.models import OfferMessage, OfferMessageAttachment
from offload.core.db import db, utcnow
from offload.core.tokens import hash_token
from offload.gigs.models import ClientDetails, Gig, GigAttachment, Question
from offload.invites.models import Invite, InviteState
from offload.milestones.models import Milestone
from offload.notifications.models import Notification, NotificationPreference
from offload.offers.models import Offer
from offload.profiles.models import (
    Document,
    EducationEntry,
    MemberSkill,
    PortfolioItem,
    Profile,
    Skill,
)
from offload.projects.models import Project, ProjectEvent, ProjectEventFile
from offload.reviews.models import Review, ReviewReply

from .models import DataExport, ExportState

# --- the settings page and the download ------------------------------------------------


class ExportView(NamedTuple):
    """A member's export as their settings page shows it."""

    id: int
    state: ExportState
    requested_at: datetime
    ready_at: datetime | None
    expires_at: datetime | None
    size_bytes: int | None

    @property
    def is_running(self) -> bool:
        return self.state in (ExportState.REQUESTED, ExportState.BUILDING)

    @property
    def is_ready(self) -> bool:
        return self.state == ExportState.READY and not self.is_expired

    @property
    def is_too_large(self) -> bool:
        """It failed because the zip went over EXPORT_MAX_BYTES."""
        return self.state == ExportState.FAILED and self.size_bytes is not None

    @property
    def is_expired(self) -> bool:
        return self.state == ExportState.EXPIRED or (
            self.state == ExportState.READY and self.expires_at is not None
            and self.expires_at <= utcnow())


_VIEW_COLUMNS = (DataExport.id, DataExport.state, DataExport.requested_at,
                 DataExport.ready_at, DataExport.expires_at, DataExport.size_bytes)


def _view(row: Row) -> ExportView:
    return ExportView(row.id, ExportState(row.state), *row[2:])


def latest_export_of(member_id: int) -> ExportView | None:
    """The member's newest export, whatever its state; None when they never asked."""
    row = db.session.execute(
        select(*_VIEW_COLUMNS).where(DataExport.user_id == member_id)
        .order_by(DataExport.requested_at.desc(), DataExport.id.desc()).limit(1)).first()
    return None if row is None else _view(row)


def last_counted_request_at(member_id: int) -> datetime | None:
    """When the member last asked for an export that counts against EXPORT_EVERY_MINUTES
    (one that failed does not: asking again is the remedy)."""
    return db.session.scalar(
        select(DataExport.requested_at).where(DataExport.user_id == member_id,
                                             DataExport.state != ExportState.FAILED)
        .order_by(DataExport.requested_at.desc()).limit(1))


def next_request_at(member_id: int, every: timedelta) -> datetime | None:
    """When the member may ask for their next export under the limit of one per
    ``every``; None when they may now."""
    last = last_counted_request_at(member_id)
    allowed = None if last is None else last + every
    return allowed if allowed is not None and allowed > utcnow() else None


class ExportFile(NamedTuple):
    """An export the member may download: its zip, the name to save it under, and
    whether its time is up (the page then says so instead)."""

    id: int
    file_name: str | None
    download_name: str
    is_expired: bool


def export_file_for(member: User | SignedIn, export_id: int, token: str) -> ExportFile:
    """The member's export ``export_id`` to download through the mailed link, whose
    ``token`` it must be. NotFound for another member's export, a wrong token, or one
    that is not (or no longer) ready."""
    row = db.session.execute(
        select(DataExport.id, DataExport.state, DataExport.file_name, DataExport.token_hash,
               DataExport.expires_at, DataExport.ready_at, User.username)
        .join(User, User.id == DataExport.user_id)
        .where(DataExport.id == export_id, DataExport.user_id == member.id)).first()
    if row is None:
        raise NotFound()
    if not (row.token_hash and hmac.compare_digest(
            row.token_hash, hash_token(token))):
        raise NotFound()
    expired = row.state == ExportState.EXPIRED or (
        row.state == ExportState.READY and row.expires_at <= utcnow())
    if row.state != ExportState.READY and not expired:
        raise NotFound()
    day = row.ready_at.date().isoformat() if row.ready_at else "export"
    return ExportFile(row.id, None if expired else row.file_name,
                      f"offload-data-{row.username}-{day}.zip", expired)


def next_export_to_build(stale_before: datetime) -> Row | None:
    """The oldest export waiting to be built, or being built under a lease that began
    before ``stale_before`` (its worker died): (id, state, started_at)."""
    return db.session.execute(
        select(DataExport.id, DataExport.state, DataExport.started_at)
        .where(or_(DataExport.state == ExportState.REQUESTED,
                   and_(DataExport.state == ExportState.BUILDING,
                        DataExport.started_at < stale_before)))
        .order_by(DataExport.requested_at, DataExport.id).limit(1)).first()


# --- the archive ------------------------------------------------------------------------

Other = aliased(User, name="other")


def _rows(statement) -> tuple[Row, ...]:
    return tuple(db.session.execute(statement).all())


def _in_pages(statement, created_at, id_, size: int) -> Iterator[tuple[Row, ...]]:
    """The rows of ``statement`` in (``created_at``, ``id_``) order, a page of ``size``
    rows at a time: each page starts after the last row of the one before (a keyset, so
    a page costs the same however deep it is). The rows carry ``created_at`` and
    ``id``."""
    after = None
    while True:
        page = statement
        if after is not None:
            page = page.where(or_(created_at > after.created_at,
                                  and_(created_at == after.created_at, id_ > after.id)))
        rows = tuple(db.session.execute(page.order_by(created_at, id_).limit(size)).all())
        if rows:
            yield rows
        if len(rows) < size:
            return
        after = rows[-1]


class MemberData(NamedTuple):
    """The member's own account row, profile and settings (profile.json)."""

    account: Row
    profile: Row | None
    skills: tuple[str, ...]
    education: tuple[Row, ...]
    portfolio: tuple[Row, ...]
    documents: tuple[Row, ...]
    notification_preferences: tuple[Row, ...]
    invited_by: str | None


def member_data(member_id: int) -> MemberData:
    account = db.session.execute(
        select(User.id, User.username, User.display_name, User.email, User.pending_email,
               User.account_type, User.organization_name, User.work_role, User.is_admin,
               User.email_confirmed_at, User.created_at, User.last_login_at,
               User.invited_by_id)
        .where(User.id == member_id)).one()
    inviter = None if account.invited_by_id is None else db.session.scalar(
        select(User.username).where(User.id == account.invited_by_id))
    return MemberData(
        account=account,
        profile=db.session.execute(
            select(Profile.headline, Profile.bio, Profile.location, Profile.available,
                   Profile.photo_version, Profile.updated_at)
            .where(Profile.user_id == member_id)).first(),
        skills=tuple(db.session.scalars(
            select(Skill.name).join(MemberSkill, MemberSkill.skill_id == Skill.id)
            .where(MemberSkill.user_id == member_id).order_by(Skill.slug))),
        education=_rows(select(EducationEntry.school, EducationEntry.degree,
                               EducationEntry.field_of_study, EducationEntry.start_year,
                               EducationEntry.end_year)
                        .where(EducationEntry.user_id == member_id)
                        .order_by(EducationEntry.start_year, EducationEntry.id)),
        portfolio=_rows(select(PortfolioItem.title, PortfolioItem.url,
                               PortfolioItem.description, PortfolioItem.created_at)
                        .where(PortfolioItem.user_id == member_id).order_by(PortfolioItem.id)),
        documents=_rows(select(Document.id, Document.kind, Document.title,
                               Document.original_name, Document.stored_name,
                               Document.created_at)
                        .where(Document.user_id == member_id).order_by(Document.id)),
        notification_preferences=_rows(
            select(NotificationPreference.kind, NotificationPreference.channel)
            .where(NotificationPreference.user_id == member_id)
            .order_by(NotificationPreference.kind)),
        invited_by=inviter,
    )


def gigs_posted_by(member_id: int) -> tuple[Row, ...]:
    return _rows(select(Gig.id, Gig.kind, Gig.title, Gig.description, Gig.category,
                        Gig.skills_text, Gig.budget_min_minor, Gig.budget_max_minor,
                        Gig.currency, Gig.deadline, Gig.state, Gig.cancel_reason,
                        Gig.created_at, Gig.published_at)
                 .where(Gig.poster_id == member_id).order_by(Gig.id))


def client_details_of(gig_ids: list[int]) -> dict[int, Row]:
    """The referral client's details of the member's own gigs."""
    return {row.gig_id: row for row in db.session.execute(
        select(ClientDetails.gig_id, ClientDetails.client_name, ClientDetails.contact,
               ClientDetails.notes).where(ClientDetails.gig_id.in_(gig_ids)))}


def gig_attachments_of(gig_ids: list[int]) -> tuple[Row, ...]:
    return _rows(select(GigAttachment.id, GigAttachment.gig_id, GigAttachment.original_name,
                        GigAttachment.stored_name, GigAttachment.created_at)
                 .where(GigAttachment.gig_id.in_(gig_ids)).order_by(GigAttachment.id))


def questions_on(gig_ids: list[int]) -> tuple[Row, ...]:
    """The questions asked on the member's gigs (public on the gig page), with the
    asker's username as the page shows it."""
    return _rows(select(Question.gig_id, Other.username.label("asked_by"), Question.body,
                        Question.created_at, Question.answer, Question.answered_at)
                 .join(Other, Other.id == Question.asker_id)
                 .where(Question.gig_id.in_(gig_ids))
                 .order_by(Question.gig_id, Question.created_at, Question.id))


_OFFER_COLUMNS = (Offer.id, Offer.gig_id, Gig.title.label("gig_title"), Offer.state,
                  Offer.closed_reason, Offer.price_minor, Gig.currency, Offer.days_to_deliver,
                  Offer.cover_letter, Offer.fee_kind, Offer.fee_minor, Offer.decline_reason,
                  Offer.created_at, Offer.state_changed_at)


def offers_made_by(member_id: int) -> tuple[Row, ...]:
    return _rows(select(*_OFFER_COLUMNS).join(Gig, Gig.id == Offer.gig_id)
                 .where(Offer.member_id == member_id).order_by(Offer.id))


def offers_received_by(member_id: int) -> tuple[Row, ...]:
    """Offers on the member's gigs, as the poster sees them on the gig page."""
    return _rows(select(*_OFFER_COLUMNS, Other.username.label("offered_by"),
                        Other.display_name.label("offered_by_name"))
                 .join(Gig, Gig.id == Offer.gig_id).join(Other, Other.id == Offer.member_id)
                 .where(Gig.poster_id == member_id).order_by(Offer.id))


def projects_of(member_id: int) -> tuple[Row, ...]:
    """The member's projects, either side, with the other party's public name."""
    mine_as_poster = Project.poster_id == member_id
    return _rows(select(Project.id, Project.gig_id, Gig.title.label("gig_title"), Project.kind,
                        case((mine_as_poster, "poster"), else_="performer").label("role"),
                        Other.username.label("other_party"),
                        Other.display_name.label("other_party_name"),
                        Project.state, Project.price_minor, Project.currency,
                        Project.days_to_deliver, Project.due_on, Project.created_at,
                        Project.state_changed_at)
                 .join(Gig, Gig.id == Project.gig_id)
                 .join(Other, Other.id == case((mine_as_poster, Project.performer_id),
                                               else_=Project.poster_id))
                 .where(or_(mine_as_poster, Project.performer_id == member_id))
                 .order_by(Project.id))


def milestones_of(project_ids: list[int]) -> tuple[Row, ...]:
    return _rows(select(Milestone.id, Milestone.project_id, Milestone.title,
                        Milestone.amount_minor, Milestone.due_on, Milestone.state,
                        Milestone.delivery_note, Milestone.revision_note, Milestone.created_at,
                        Milestone.state_changed_at)
                 .where(Milestone.project_id.in_(project_ids))
                 .order_by(Milestone.project_id, Milestone.created_at, Milestone.id))


def timeline_of(project_ids: list[int]) -> tuple[Row, ...]:
    """Every event on the member's projects (both parties see the whole timeline); the
    actor by username, None for the site."""
    return _rows(select(ProjectEvent.id, ProjectEvent.project_id, ProjectEvent.kind,
                        Other.username.label("by"), ProjectEvent.note, ProjectEvent.created_at)
                 .outerjoin(Other, Other.id == ProjectEvent.actor_id)
                 .where(ProjectEvent.project_id.in_(project_ids))
                 .order_by(ProjectEvent.project_id, ProjectEvent.created_at, ProjectEvent.id))


def timeline_files_of(project_ids: list[int]) -> tuple[Row, ...]:
    """The files handed over on those timelines, with who handed each over."""
    return _rows(select(ProjectEventFile.id, ProjectEventFile.event_id,
                        ProjectEventFile.original_name, ProjectEventFile.stored_name,
                        ProjectEvent.actor_id.label("uploaded_by_id"))
                 .join(ProjectEvent, ProjectEvent.id == ProjectEventFile.event_id)
                 .where(ProjectEvent.project_id.in_(project_ids)).order_by(ProjectEventFile.id))


def conversations_of(member_id: int) -> tuple[Row, ...]:
    """The offers whose conversation the member is a party to (the offerer, or the
    gig's poster), with the other party's public name."""
    poster = aliased(User, name="poster")
    offerer = aliased(User, name="offerer")
    return _rows(select(Offer.id.label("offer_id"), Gig.title.label("gig_title"),
                        case((Offer.member_id == member_id, poster.username),
                             else_=offerer.username).label("with_username"),
                        case((Offer.member_id == member_id, poster.display_name),
                             else_=offerer.display_name).label("with_name"))
                 .join(Gig, Gig.id == Offer.gig_id)
                 .join(poster, poster.id == Gig.poster_id)
                 .join(offerer, offerer.id == Offer.member_id)
                 .where(or_(Offer.member_id == member_id, Gig.poster_id == member_id))
                 .where(select(OfferMessage.id).where(OfferMessage.offer_id == Offer.id)
                        .exists())
                 .order_by(Offer.id))


def messages_in(offer_id: int, size: int) -> Iterator[tuple[Row, ...]]:
    """The messages of one conversation, oldest first, in pages of ``size``."""
    return _in_pages(select(OfferMessage.id, OfferMessage.offer_id, OfferMessage.sender_id,
                            Other.username.label("sender"), OfferMessage.body,
                            OfferMessage.created_at)
                     .join(Other, Other.id == OfferMessage.sender_id)
                     .where(OfferMessage.offer_id == offer_id),
                     OfferMessage.created_at, OfferMessage.id, size)


def message_files_of(message_ids: list[int]) -> tuple[Row, ...]:
    """The files sent with those messages (a page of them), with who sent each."""
    return _rows(select(OfferMessageAttachment.id, OfferMessageAttachment.message_id,
                        OfferMessageAttachment.original_name, OfferMessageAttachment.stored_name,
                        OfferMessage.sender_id.label("uploaded_by_id"))
                 .join(OfferMessage, OfferMessage.id == OfferMessageAttachment.message_id)
                 .where(OfferMessageAttachment.message_id.in_(message_ids))
                 .order_by(OfferMessageAttachment.id))


def reviews_of(member_id: int) -> tuple[Row, ...]:
    """Reviews the member wrote, and the published reviews of them (a review of them
    is hidden from them, as on the site, until it is published); each with its reply."""
    author = aliased(User, name="author")
    subject = aliased(User, name="subject")
    return _rows(select(Review.id, Review.project_id,
                        case((Review.author_id == member_id, "given"),
                             else_="received").label("direction"),
                        author.username.label("author"), subject.username.label("subject"),
                        Review.stars, Review.body, Review.submitted_at, Review.published_at,
                        ReviewReply.body.label("reply"),
                        ReviewReply.created_at.label("replied_at"))
                 .join(author, author.id == Review.author_id)
                 .join(subject, subject.id == Review.subject_id)
                 .outerjoin(ReviewReply, ReviewReply.review_id == Review.id)
                 .where(or_(Review.author_id == member_id,
                            and_(Review.subject_id == member_id,
                                 Review.published_at.is_not(None))))
                 .order_by(Review.id))


def notifications_of(member_id: int, size: int) -> Iterator[tuple[Row, ...]]:
    """The member's notifications, oldest first, in pages of ``size`` (with their
    ``id``, the pages' key)."""
    return _in_pages(select(Notification.id, Notification.kind, Notification.title,
                            Notification.subject, Notification.link, Notification.created_at,
                            Notification.read_at)
                     .where(Notification.user_id == member_id),
                     Notification.created_at, Notification.id, size)


def invites_sent_by(member_id: int) -> tuple[Row, ...]:
    """The member's invites. An accepted one names the member who joined by their
    username, not the address it went to: that is now their e-mail, which the site
    does not show; so is an address someone signed up with since."""
    joined = aliased(User, name="joined")
    # an address someone signed up with since (through another invite) is theirs now
    a_members = select(Other.id).where(Other.email == Invite.email).exists()
    return _rows(select(Invite.id, case((or_(Invite.state == InviteState.ACCEPTED, a_members),
                                         None), else_=Invite.email).label("email"),
                        joined.username.label("joined_as"), Invite.vouch_note, Invite.state,
                        Invite.created_at, Invite.expires_at, Invite.state_changed_at)
                 .outerjoin(joined, joined.id == Invite.accepted_user_id)
                 .where(Invite.inviter_id == member_id).order_by(Invite.id))
