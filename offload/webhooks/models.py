"""Webhook endpoints, their deliveries (an outbox) and the log of attempts.

Design: an event is never sent from the transaction that caused it. ``notify()``
hands each notification of a mapped kind to ``enqueue_webhooks``, which writes one
``WebhookDelivery`` per enabled endpoint that wants its event type, payload included,
in the same transaction: if that rolls back there is no event; if it commits, the job
worker sends it (``deliver_webhooks``), claiming each row first with a guarded UPDATE
of ``locked_until`` as the mail outbox does, so two workers never send one row twice.

Back-off belongs to the endpoint, not the row: a failed attempt moves the endpoint's
``retry_at`` on (WEBHOOK_RETRY_SECONDS) and counts one more consecutive failure, and no
row for it is due before then. A receiver that is down is therefore probed once per
step, its events wait in order, and after WEBHOOK_MAX_FAILURES in a row the endpoint
is turned off (its rows wait; turning it on again resumes them). A 2xx answer resets
the count. A member's suspension turns their endpoints off too, with the reason
(``disable_member_webhooks``), and no event is queued for a suspended member's
endpoints; the site-wide ones still receive their events.

The secret is stored as it is, in the clear: HMAC signing needs it back (unlike a
token, which is only compared and so stored hashed). It is shown once, when made or
rotated.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from offload.core.db import db, utcnow

URL_MAX = 500
ERROR_MAX = 300
REASON_MAX = 200


class EventType(StrEnum):
    """What an endpoint can subscribe to; each is one or more notification kinds."""

    GIG_ALERT = "gig.alert_matched"
    OFFER_RECEIVED = "offer.received"
    AWARD = "award.changed"
    PROJECT_EVENT = "project.event"
    MESSAGE = "message.received"
    MILESTONE = "milestone.changed"
    COMMISSION_DUE = "commission.due"

    @property
    def label(self) -> str:
        return EVENT_LABELS[self]


EVENT_LABELS = {
    EventType.GIG_ALERT: "A new gig matches one of my alerts",
    EventType.OFFER_RECEIVED: "An offer on my gig",
    EventType.AWARD: "An award: made, accepted, declined or taken back",
    EventType.PROJECT_EVENT: "An update on a project's timeline",
    EventType.MESSAGE: "A new message",
    EventType.MILESTONE: "A milestone funded, delivered or approved",
    EventType.COMMISSION_DUE: "A commission due or overdue",
}

# the notification kinds (notifications/kinds.py) each event type is made from
EVENT_OF_KIND: dict[str, EventType] = {
    "keyword_alert": EventType.GIG_ALERT,
    "new_offer": EventType.OFFER_RECEIVED,
    "award": EventType.AWARD,
    "award_accepted": EventType.AWARD,
    "award_declined": EventType.AWARD,
    "award_taken_back": EventType.AWARD,
    "project_event": EventType.PROJECT_EVENT,
    "new_message": EventType.MESSAGE,
    "milestone": EventType.MILESTONE,
    "commission_due": EventType.COMMISSION_DUE,
}


class WebhookEndpoint(db.Model):
    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        CheckConstraint("failures >= 0", name="failures_not_negative"),
        # notify() looks up "this member's or the site's enabled endpoints" on this index
        Index("ix_webhook_endpoints_user", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # the member whose events it receives; null: a site-wide endpoint (every member's)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # who made it: the member, or the admin for a site-wide one (told when it is turned off)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    url: Mapped[str] = mapped_column(String(URL_MAX))
    # the EventType values it wants, space-separated
    events: Mapped[str] = mapped_column(String(200))
    secret: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    # turned off (null: on): after WEBHOOK_MAX_FAILURES consecutive failures, or when its
    # member was suspended; why, as the member's page shows it
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(REASON_MAX))
    # consecutive failed attempts, and when the next attempt may be made after them
    failures: Mapped[int] = mapped_column(default=0, server_default="0")
    retry_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    # the last attempt's HTTP status (null: no answer, see the log's error)
    last_status: Mapped[int | None]

    def __repr__(self) -> str:
        return f"<WebhookEndpoint {self.id} user={self.user_id}>"


class WebhookDelivery(db.Model):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_webhook_deliveries_due", "delivered_at", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"))
    # the webhook-id header: the same on every retry, so receivers can drop repeats
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    event_type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)  # the JSON body, exactly as signed and sent
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]


class WebhookAttempt(db.Model):
    """One POST of one delivery: the delivery log on the settings page."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        Index("ix_webhook_attempts_endpoint", "endpoint_id", "attempted_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id"))
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    attempted_at: Mapped[datetime]
    status_code: Mapped[int | None]  # null: no HTTP answer (refused, timed out)
    error: Mapped[str | None] = mapped_column(String(ERROR_MAX))
    duration_ms: Mapped[int]
