"""Read models for the Webhooks pages (the member's and the admins'): endpoints and
their delivery logs. Another member's endpoint is NotFound, as is a member's endpoint
asked for as a site-wide one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import and_, func, select, tuple_
from werkzeug.exceptions import NotFound

from offload.core.db import db
from offload.core.pagination import Page, decode_cursor, keyset_page
from offload.notifications.queries import DeliveryBacklog, backlog_of

from .models import EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint


@dataclass(frozen=True, slots=True)
class EndpointView:
    id: int
    url: str
    events: tuple[str, ...]
    is_site_wide: bool
    created_at: datetime
    disabled_at: datetime | None
    disabled_reason: str | None
    failures: int
    last_attempt_at: datetime | None
    last_status: int | None
    waiting: int  # deliveries not yet delivered

    @property
    def is_enabled(self) -> bool:
        return self.disabled_at is None

    @property
    def event_labels(self) -> list[str]:
        return [EventType(e).label for e in self.events if e in EventType._value2member_map_]


@dataclass(frozen=True, slots=True)
class AttemptView:
    id: int
    attempted_at: datetime
    event_type: str
    message_id: str
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def is_success(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _endpoints(*where) -> list[EndpointView]:
    e = WebhookEndpoint
    waiting = (select(func.count()).where(WebhookDelivery.endpoint_id == e.id,
                                          WebhookDelivery.delivered_at.is_(None))
               .scalar_subquery())
    rows = db.session.execute(
        select(e.id, e.url, e.events, e.user_id, e.created_at, e.disabled_at,
               e.disabled_reason, e.failures, e.last_attempt_at, e.last_status, waiting)
        .where(*where).order_by(e.id))
    return [EndpointView(r.id, r.url, tuple(r.events.split()), r.user_id is None,
                         r.created_at, r.disabled_at, r.disabled_reason, r.failures,
                         r.last_attempt_at, r.last_status, r[-1]) for r in rows]


def endpoints_of(member_id: int) -> list[EndpointView]:
    """The member's own endpoints, oldest first."""
    return _endpoints(WebhookEndpoint.user_id == member_id)


def site_endpoints() -> list[EndpointView]:
    """The site-wide endpoints (every member's events), oldest first."""
    return _endpoints(WebhookEndpoint.user_id.is_(None))


def endpoint_for(member, endpoint_id: int) -> EndpointView:
    """The member's own endpoint; NotFound for anyone else's and for site-wide ones."""
    found = _endpoints(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.user_id == member.id)
    if not found:
        raise NotFound()
    return found[0]


def site_endpoint_for(endpoint_id: int) -> EndpointView:
    """A site-wide endpoint (the admin pages); NotFound for a member's."""
    found = _endpoints(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.user_id.is_(None))
    if not found:
        raise NotFound()
    return found[0]


def delivery_log(endpoint_id: int, cursor: str | None) -> Page:
    """The endpoint's attempts, newest first, a page of PAGE_SIZE from ``cursor`` on."""
    a, d = WebhookAttempt, WebhookDelivery
    size = current_app.config["PAGE_SIZE"]
    stmt = (select(a.id, a.attempted_at, d.event_type, d.message_id, a.status_code, a.error,
                   a.duration_ms)
            .join(d, d.id == a.delivery_id).where(a.endpoint_id == endpoint_id))
    key = decode_cursor(cursor)
    if key:
        stmt = stmt.where(tuple_(a.attempted_at, a.id) < key)
    rows = db.session.execute(
        stmt.order_by(a.attempted_at.desc(), a.id.desc()).limit(size + 1)).all()
    page = keyset_page(rows, size, key is None, "attempted_at")
    page.items = [AttemptView(*row) for row in page.items]
    return page


def webhook_backlog() -> DeliveryBacklog:
    """The webhook outbox's backlog: waiting are the undelivered events of enabled
    endpoints (a turned-off one's wait for its owner, not for the worker)."""
    undelivered = WebhookDelivery.delivered_at.is_(None)
    enabled = select(WebhookEndpoint.id).where(WebhookEndpoint.disabled_at.is_(None))
    return backlog_of(WebhookDelivery,
                      waiting=and_(undelivered, WebhookDelivery.endpoint_id.in_(enabled)),
                      failed=and_(undelivered, WebhookDelivery.attempts > 0))
