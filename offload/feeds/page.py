"""The feeds as read models: what the board, an alert and the notifications page show
the member, as Atom feeds and entries (rendered by ``templates/feeds/feed.xml``).

Composed here, on the entry side, because a feed reads several packages (the board,
alerts, notifications). Ids are tag: URIs on the canonical host, without the token, so
an entry keeps its id when the member makes a new feed link.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from flask import current_app
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from offload.alerts.models import Alert
from offload.alerts.naming import describe
from offload.alerts.services import filters_of
from offload.core.db import db, utcnow
from offload.core.links import external_url
from offload.core.money import format_money
from offload.gigs.board import alert_matches, board_page
from offload.gigs.filters import BoardFilters, BoardSort
from offload.gigs.models import GigKind
from offload.notifications.kinds import KINDS
from offload.notifications.queries import notifications_page

from .queries import FeedLink, FeedReader

TAG_DATE = "2026"  # the tag: URIs' date (RFC 4151): when this naming began; never changes
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class AtomEntry:
    id: str
    title: str
    link: str
    summary: str
    updated: datetime
    author: str


@dataclass(frozen=True, slots=True)
class AtomFeed:
    id: str
    title: str
    subtitle: str
    self_url: str
    page_url: str  # the page that shows the same list (rel="alternate")
    updated: datetime  # the newest entry's, or the link's own date for an empty feed
    entries: tuple[AtomEntry, ...]


def board_feed(reader: FeedReader, link: FeedLink, args: Mapping[str, Any]) -> AtomFeed:
    """The board's open gigs for a search, newest first: what the board shows the member
    for the same filters (a filter it can't use is left out, as on the board)."""
    filters, _ = BoardFilters.from_args(args)
    filters = filters.with_sort(BoardSort.NEWEST)
    page = board_page(filters, size=current_app.config["FEED_ENTRIES"])
    search = filters.to_args()
    search.pop("sort", None)
    return _feed(reader, f"gigs?{urlencode(search)}" if search else "gigs",
                 title=f"Gigs: {describe(filters)}",
                 subtitle="New gigs on the board for this search, newest first.",
                 self_url=link.gigs_url(search),
                 page_url=external_url("gigs.board", _query=urlencode(filters.to_args())),
                 entries=[_gig_entry(gig) for gig in page.items])


def alert_feed(reader: FeedReader, link: FeedLink, alert_id: int) -> AtomFeed:
    """The gigs the member's alert matches, newest first: its e-mails' own matching
    (the board's query, less the member's own gigs), but the newest ones whenever they
    were published, not only those since the alert was saved (a feed reader keeps track
    of what it has shown); a stopped alert stops its e-mails, not its feed. Another
    member's alert is a 404."""
    alert = db.session.scalar(select(Alert).where(Alert.id == alert_id,
                                                  Alert.user_id == reader.member.id))
    if alert is None:
        raise NotFound()
    filters = filters_of(alert)
    gigs = alert_matches(filters.with_sort(BoardSort.NEWEST),
                         published_after=_EPOCH, published_until=utcnow(),
                         limit=current_app.config["FEED_ENTRIES"],
                         not_posted_by=reader.member.id)
    return _feed(reader, f"alerts/{alert.id}", title=f"Alert: {alert.name}",
                 subtitle=f"Gigs matching your alert ({describe(filters)}).",
                 self_url=link.alert_url(alert.id), page_url=external_url("alerts.index"),
                 entries=[_gig_entry(gig) for gig in gigs])


def notifications_feed(reader: FeedReader, link: FeedLink) -> AtomFeed:
    """The member's notifications, newest first, as the notifications page lists them."""
    page = notifications_page(reader.member.id, None, current_app.config["FEED_ENTRIES"])
    site = current_app.config["CANONICAL_URL"].rstrip("/")
    inbox = external_url("notifications.index")
    entries = [AtomEntry(id=_tag(f"notifications/{n.id}"), title=n.title,
                         link=site + n.link if n.link else inbox,
                         summary=(f"On “{n.subject_line}”" if n.subject_line
                                  else KINDS[n.kind].label if n.kind in KINDS else n.title),
                         updated=n.created_at, author=current_app.config["SITE_NAME"])
               for n in page.items]
    return _feed(reader, "notifications", title=f"Notifications for {reader.member.name}",
                 subtitle="What happened on Offload that concerns you, newest first.",
                 self_url=link.notifications_url(), page_url=inbox, entries=entries)


def _feed(reader: FeedReader, name: str, *, title: str, subtitle: str, self_url: str,
          page_url: str, entries: list[AtomEntry]) -> AtomFeed:
    return AtomFeed(id=_tag(f"members/{reader.member.id}/{name}"), title=title,
                    subtitle=subtitle, self_url=self_url, page_url=page_url,
                    updated=max((e.updated for e in entries), default=reader.since),
                    entries=tuple(entries))


def _gig_entry(gig) -> AtomEntry:
    """A gig of the board (``GigListItem``) or of an alert (``Gig``) as an entry."""
    currency = current_app.config["CURRENCY"]
    budget = format_money(gig.budget_min_minor, currency)
    if not gig.is_fixed_budget:
        budget += "–" + format_money(gig.budget_max_minor, currency)
    skills = ", ".join(skill.name for skill in gig.skills)
    summary = " · ".join(part for part in (
        GigKind(gig.kind).label, budget, f"due {gig.deadline.isoformat()}", skills) if part)
    return AtomEntry(id=_tag(f"gigs/{gig.id}"), title=gig.title,
                     link=external_url("gigs.show", gig_id=gig.id), summary=summary,
                     updated=gig.published_at, author=gig.poster.name)


def _tag(specific: str) -> str:
    host = urlsplit(current_app.config["CANONICAL_URL"]).hostname or "localhost"
    return f"tag:{host},{TAG_DATE}:{specific}"
