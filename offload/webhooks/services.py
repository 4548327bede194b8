"""Registering webhook endpoints, queueing events for them, and delivering them.

Every change to an endpoint is one transaction; a site-wide endpoint (an admin's) is
changed only by an admin, with a written reason, logged in the moderation log in the
same transaction. ``enqueue_webhooks`` joins the notifying transaction;
``deliver_webhooks`` is the one place that makes HTTP calls, between transactions.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, func, or_, select, update
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RoutingException

from offload.accounts.models import User
from offload.core.db import atomic, db, in_atomic, utcnow
from offload.core.errors import Conflict, InvalidField, NotAllowed
from offload.core.links import site_path
from offload.core.logs import log_context
from offload.moderation.services import record_moderation
from offload.notifications.models import Notification
from offload.notifications.services import notify, wake_mail_worker

from .destinations import clean_url
from .models import (
    EVENT_OF_KIND,
    EventType,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from .sending import SendFailed, post_webhook
from .signing import headers_for, new_secret

log = logging.getLogger("offload.webhooks")

# a claimed delivery is left alone by other runners this long from its claim: well over
# the timeout, which bounds the whole POST
CLAIM_SECONDS = 120

SUSPENDED_REASON = "Turned off when your account was suspended."


@dataclass(frozen=True)
class NewSecret:
    """An endpoint's secret, just made: shown once, on the page that answers."""

    endpoint_id: int
    url: str
    secret: str


# --- endpoints ---------------------------------------------------------------------------

def create_webhook_endpoint(*, actor: User, url: str, events: list[str], site_wide: bool = False,
                            reason: str | None = None) -> NewSecret:
    """Register an endpoint for the actor's events (``site_wide``: an admin's, for
    every member's events).

    Refuses: a URL we won't send to (``destinations``), no event type or an unknown
    one, more than WEBHOOK_ENDPOINTS_MAX endpoints (the member's, or the site's),
    a site-wide one from anyone but an admin (NotAllowed) or without a reason.
    Writes: the endpoint with a new secret; site-wide, a moderation-log entry.
    """
    if site_wide and not actor.is_admin:
        raise NotAllowed("Only admins register site-wide webhooks.")
    url = clean_url(url, allow_loopback=current_app.config["WEBHOOKS_ALLOW_HTTP_LOOPBACK"])
    chosen = _clean_events(events)
    owner_id = None if site_wide else actor.id
    with atomic() as session:
        # one count at a time per member (or for the site): two tabs can't pass the limit
        session.execute(select(User.id).where(User.id == actor.id).with_for_update())
        mine = (WebhookEndpoint.user_id.is_(None) if site_wide
                else WebhookEndpoint.user_id == actor.id)
        count = session.scalar(select(func.count()).where(mine))
        if count >= current_app.config["WEBHOOK_ENDPOINTS_MAX"]:
            raise Conflict(f"There are {count} webhooks already: delete one you no longer use.")
        secret = new_secret()
        endpoint = WebhookEndpoint(user_id=owner_id, created_by_id=actor.id, url=url,
                                   events=chosen, secret=secret)
        session.add(endpoint)
        session.flush()
        if site_wide:
            _record(actor, "webhook_created", endpoint, reason)
    log.info("webhook endpoint created", extra={"user_id": actor.id, "endpoint_id": endpoint.id})
    return NewSecret(endpoint.id, url, secret)


def update_webhook_events(endpoint_id: int, *, actor: User, events: list[str],
                          reason: str | None = None) -> None:
    """Change which event types the endpoint receives (from the next event on).

    Refuses: no event type or an unknown one; another member's endpoint (NotAllowed);
    a site-wide one without an admin and a reason.
    """
    chosen = _clean_events(events)
    with atomic():
        endpoint = _held(endpoint_id, actor, reason, "webhook_changed")
        endpoint.events = chosen


def rotate_webhook_secret(endpoint_id: int, *, actor: User, reason: str | None = None) -> NewSecret:
    """Give the endpoint a new secret, at once: deliveries from now on, retries
    included, are signed with it and no longer with the old one.

    Refuses: as ``update_webhook_events``.
    """
    with atomic():
        endpoint = _held(endpoint_id, actor, reason, "webhook_secret_rotated")
        endpoint.secret = new_secret()
        return NewSecret(endpoint.id, endpoint.url, endpoint.secret)


def enable_webhook_endpoint(endpoint_id: int, *, actor: User, reason: str | None = None) -> None:
    """Turn a turned-off endpoint on again: its failures are forgotten and the events
    that waited are delivered, oldest first.

    Refuses: an endpoint that is on (Conflict); otherwise as ``update_webhook_events``.
    """
    with atomic():
        endpoint = _held(endpoint_id, actor, reason, "webhook_enabled")
        if endpoint.disabled_at is None:
            raise Conflict("That webhook is on already.")
        endpoint.disabled_at, endpoint.disabled_reason = None, None
        endpoint.failures, endpoint.retry_at = 0, None
        wake_mail_worker()


def delete_webhook_endpoint(endpoint_id: int, *, actor: User, reason: str | None = None) -> None:
    """Delete the endpoint, with its undelivered events and its log.

    Refuses: as ``update_webhook_events``.
    """
    with atomic() as session:
        endpoint = _held(endpoint_id, actor, reason, "webhook_deleted")
        for model in (WebhookAttempt, WebhookDelivery):
            session.execute(delete(model).where(model.endpoint_id == endpoint.id)
                            .execution_options(synchronize_session=False))
        session.delete(endpoint)


def _held(endpoint_id: int, actor: User, reason: str | None, action: str) -> WebhookEndpoint:
    """The endpoint, locked, when the actor may change it; a site-wide one's change is
    logged with ``reason``. Joins the caller's transaction."""
    session = db.session
    endpoint = session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
                              .with_for_update())
    if endpoint is None:
        raise NotAllowed("That webhook doesn't exist any more.")
    if endpoint.user_id is None:
        if not actor.is_admin:
            raise NotAllowed("Only admins change site-wide webhooks.")
        _record(actor, action, endpoint, reason)
    elif endpoint.user_id != actor.id:
        raise NotAllowed("That webhook isn't yours.")
    return endpoint


def _record(actor: User, action: str, endpoint: WebhookEndpoint, reason: str | None) -> None:
    record_moderation(actor=actor, action=action, subject_type="webhook_endpoint",
                      subject_id=endpoint.id, reason=reason or "")


def _clean_events(events: list[str]) -> str:
    try:
        chosen = sorted({EventType(e) for e in events or []}, key=list(EventType).index)
    except ValueError:
        raise InvalidField("events", "Choose among the events listed.") from None
    if not chosen:
        raise InvalidField("events", "Choose at least one event.")
    return " ".join(e.value for e in chosen)


def disable_member_webhooks(member_id: int) -> int:
    """Turn off the member's endpoints that are on, saying why on their page (their
    suspension: ``cases.suspension`` calls this); how many. Their waiting events stay,
    sent if the member turns an endpoint on again. Joins the caller's transaction."""
    with atomic() as session:
        return session.execute(
            update(WebhookEndpoint).where(WebhookEndpoint.user_id == member_id,
                                          WebhookEndpoint.disabled_at.is_(None))
            .values(disabled_at=utcnow(), disabled_reason=SUSPENDED_REASON)
            .execution_options(synchronize_session=False)).rowcount


# --- queueing ------------------------------------------------------------------------------

def enqueue_webhooks(notification: Notification) -> int:
    """Queue the notification as an event for every enabled endpoint that wants its type:
    the member's own (none while the member is suspended) and the site-wide ones.
    Returns how many were queued.

    ``notify()`` calls this (``create_app`` installs it) in its own transaction, after
    the notification is flushed; a kind no event type is made from costs no query, and
    one that is costs one, on the endpoints' index by member.
    Writes: a WebhookDelivery per endpoint; on PostgreSQL the worker's wake-up on commit.
    The payload says only what the notification says, to the member it is for: its
    title, what it is about, its link and the ids in that link.
    """
    event = EVENT_OF_KIND.get(notification.kind)
    if event is None:
        return 0
    with atomic() as session:
        rows = session.execute(
            select(WebhookEndpoint.id, WebhookEndpoint.events)
            .where(or_(WebhookEndpoint.user_id.in_(
                           select(User.id).where(User.id == notification.user_id,
                                                 User.suspended_at.is_(None))),
                       WebhookEndpoint.user_id.is_(None)),
                   WebhookEndpoint.disabled_at.is_(None))).all()
        targets = [endpoint_id for endpoint_id, events in rows if event in events.split()]
        if not targets:
            return 0
        body = _payload(notification, event)
        for endpoint_id in targets:
            session.add(WebhookDelivery(endpoint_id=endpoint_id, event_type=event.value,
                                        message_id="msg_" + secrets.token_urlsafe(18),
                                        payload=body))
        wake_mail_worker()
    return len(targets)


def _payload(notification: Notification, event: EventType) -> str:
    link = notification.link
    base = current_app.config["CANONICAL_URL"].rstrip("/")
    ids = _ids_in(link)
    data = {"notification_id": notification.id, "kind": notification.kind,
            "member_id": notification.user_id, "title": notification.title,
            "subject": notification.subject, "html_url": base + link if link else None,
            "api_url": _api_url(base, ids), **ids}
    at = notification.created_at or utcnow()
    return json.dumps({"type": event.value, "timestamp": at.isoformat().replace("+00:00", "Z"),
                       "data": data}, sort_keys=True, separators=(",", ":"))


def _ids_in(link: str | None) -> dict[str, int]:
    """The ids in a path on this site, by their URL names ("/gigs/3" → gig_id=3)."""
    if not link:
        return {}
    try:
        _, args = current_app.url_map.bind("").match(urlsplit(link).path, method="GET")
    except (HTTPException, RoutingException):
        return {}
    return {key: value for key, value in args.items()
            if key.endswith("_id") and isinstance(value, int)}


def _api_url(base: str, ids: dict[str, int]) -> str | None:
    """The API's address of what the link shows, when the API serves it: the shortest
    GET route under ``api`` that takes exactly that one id (``/gigs/{gig_id}``, the gig
    itself, rather than ``/gigs/{gig_id}/offers``)."""
    for key in reversed(ids):
        rules = [rule for rule in current_app.url_map.iter_rules()
                 if rule.endpoint.startswith("api.") and rule.arguments == {key}
                 and "GET" in (rule.methods or ())]
        if rules:
            rule = min(rules, key=lambda found: len(found.rule))
            # built from the rule just found (not site_path: no endpoint is named here)
            path = current_app.url_map.bind("", script_name="/").build(
                rule.endpoint, {key: ids[key]})
            return base + path
    return None


# --- delivery -------------------------------------------------------------------------------

@dataclass
class WebhookReport:
    delivered: int = 0
    failed: int = 0  # retried after the endpoint's back-off
    disabled: int = 0  # endpoints turned off by this run

    @property
    def attempted(self) -> int:
        return self.delivered + self.failed

    def __str__(self) -> str:
        return (f"delivered {self.delivered}, failed {self.failed}, "
                f"turned off {self.disabled} endpoints")


@dataclass(frozen=True)
class _Send:
    delivery_id: int
    endpoint_id: int
    url: str
    secret: str
    message_id: str
    payload: str


def deliver_webhooks(*, now: datetime | None = None, clock: Callable[[], datetime] = utcnow,
                     limit: int = 100,
                     keep_going: Callable[[], bool] | None = None) -> WebhookReport:
    """POST the deliveries that are due, oldest first, each signed (Standard Webhooks).

    For each: claim it (a guarded UPDATE of ``locked_until``: concurrent runners never
    send one row), commit, POST outside any transaction (``sending``: the host resolved
    and checked, the checked address connected to, WEBHOOK_TIMEOUT_SECONDS for the whole
    request, redirects not followed), then in a second short transaction log the attempt
    and mark it delivered (2xx), or count a failure on the endpoint: its next attempt
    waits WEBHOOK_RETRY_SECONDS[failures - 1], and after WEBHOOK_MAX_FAILURES in a row it
    is turned off and its owner told.
    The clock is read for each row, at its claim, its signature and its record: a batch
    of slow receivers takes minutes, and a claim or a timestamp read at the batch's
    start would be stale by then (another runner taking a row being sent; receivers
    refusing an old signature). ``now`` fixes the clock (tests); ``clock`` replaces it.
    ``keep_going``: asked before each row; False ends the run there.
    Must not be called inside ``atomic()``.
    """
    if in_atomic():
        raise RuntimeError("deliver_webhooks() makes HTTP calls and must run outside atomic()")
    if now is not None:
        clock = lambda: now  # noqa: E731 - a fixed clock
    report = WebhookReport()
    due = list(db.session.scalars(select(WebhookDelivery.id).where(_is_due(clock()))
                               .order_by(WebhookDelivery.id).limit(limit)))
    for delivery_id in due:
        if keep_going is not None and not keep_going():
            break
        with log_context(webhook_delivery_id=delivery_id):  # on each line logged about it
            _deliver_one(delivery_id, clock, report)
    return report


def _deliver_one(delivery_id: int, clock: Callable[[], datetime], report: WebhookReport) -> None:
    send = _claim(delivery_id, clock())
    if send is None:
        return  # another runner took it, or its endpoint failed meanwhile
    started = time.monotonic()
    status, error = _post(send, clock())
    duration_ms = round((time.monotonic() - started) * 1000)
    if error is None:
        _record_delivered(send, clock(), status, duration_ms)
        report.delivered += 1
    else:
        report.failed += 1
        if _record_failed(send, clock(), status, error, duration_ms):
            report.disabled += 1


def _is_due(now: datetime):
    ready = select(WebhookEndpoint.id).where(
        WebhookEndpoint.disabled_at.is_(None),
        or_(WebhookEndpoint.retry_at.is_(None), WebhookEndpoint.retry_at <= now))
    return (WebhookDelivery.delivered_at.is_(None)
            & or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until <= now)
            & WebhookDelivery.endpoint_id.in_(ready))


def _claim(delivery_id: int, now: datetime) -> _Send | None:
    with atomic() as session:
        result = session.execute(
            update(WebhookDelivery).where(WebhookDelivery.id == delivery_id, _is_due(now))
            .values(locked_until=now + timedelta(seconds=CLAIM_SECONDS))
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            return None
        row = session.execute(
            select(WebhookDelivery.endpoint_id, WebhookEndpoint.url, WebhookEndpoint.secret,
                   WebhookDelivery.message_id, WebhookDelivery.payload)
            .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
            .where(WebhookDelivery.id == delivery_id)).one()
        return _Send(delivery_id, *row)


def _post(send: _Send, now: datetime) -> tuple[int | None, str | None]:
    """POST one delivery: (status, None) on a 2xx answer, else (status or None, why)."""
    config = current_app.config
    headers = headers_for(send.secret, send.message_id, int(now.timestamp()), send.payload)
    try:
        status = post_webhook(send.url, send.payload.encode(), headers,
                              allow_loopback=config["WEBHOOKS_ALLOW_HTTP_LOOPBACK"],
                              timeout=config["WEBHOOK_TIMEOUT_SECONDS"])
    except SendFailed as failed:
        return None, str(failed)
    if 200 <= status < 300:
        return status, None
    return status, f"HTTP {status}"


def _record_delivered(send: _Send, now: datetime, status: int, duration_ms: int) -> None:
    with atomic() as session:
        endpoint = _locked_endpoint(send)
        if endpoint is None:
            return
        endpoint.failures, endpoint.retry_at = 0, None
        endpoint.last_attempt_at, endpoint.last_status = now, status
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id == send.delivery_id)
                        .values(delivered_at=now, locked_until=None,
                                attempts=WebhookDelivery.attempts + 1)
                        .execution_options(synchronize_session=False))
        _log_attempt(send, now, status, None, duration_ms)
    log.info("webhook %s delivered to endpoint %s (%s)", send.message_id, send.endpoint_id,
             status)


def _record_failed(send: _Send, now: datetime, status: int | None, error: str,
                   duration_ms: int) -> bool:
    """Log the failure and move the endpoint's back-off on; True when this failure
    turned the endpoint off."""
    config = current_app.config
    with atomic() as session:
        endpoint = _locked_endpoint(send)
        if endpoint is None:
            return False
        endpoint.failures += 1
        waits = config["WEBHOOK_RETRY_SECONDS"]
        endpoint.retry_at = now + timedelta(seconds=waits[min(endpoint.failures, len(waits)) - 1])
        endpoint.last_attempt_at, endpoint.last_status = now, status
        session.execute(update(WebhookDelivery).where(WebhookDelivery.id == send.delivery_id)
                        .values(locked_until=None, attempts=WebhookDelivery.attempts + 1)
                        .execution_options(synchronize_session=False))
        _log_attempt(send, now, status, error, duration_ms)
        turned_off = (endpoint.failures >= config["WEBHOOK_MAX_FAILURES"]
                      and endpoint.disabled_at is None)
        if turned_off:
            endpoint.disabled_at = now
            endpoint.disabled_reason = (f"Turned off after {endpoint.failures} failed "
                                        "deliveries in a row.")
            _tell_owner(endpoint)
    log.warning("webhook %s to endpoint %s failed (%s)%s", send.message_id, send.endpoint_id,
                error, ": endpoint turned off" if turned_off else "")
    return turned_off


def _locked_endpoint(send: _Send) -> WebhookEndpoint | None:
    """The endpoint of the delivery just sent, locked first (as deleting it locks it
    first); None when it was deleted while we were sending: nothing left to record."""
    return db.session.scalar(select(WebhookEndpoint).where(WebhookEndpoint.id == send.endpoint_id)
                             .with_for_update())


def _tell_owner(endpoint: WebhookEndpoint) -> None:
    owner = db.session.get(User, endpoint.created_by_id)
    link = (site_path("webhooks.show", webhook_id=endpoint.id) if endpoint.user_id
            else site_path("admin.webhook", site_webhook_id=endpoint.id))
    notify(owner, "webhook_disabled",
           title=f"We turned off your webhook to {endpoint.url} after "
                 f"{endpoint.failures} failed deliveries in a row",
           link=link, subject=urlsplit(endpoint.url).hostname)


def _log_attempt(send: _Send, now: datetime, status: int | None, error: str | None,
                 duration_ms: int) -> None:
    db.session.add(WebhookAttempt(endpoint_id=send.endpoint_id, delivery_id=send.delivery_id,
                                  attempted_at=now, status_code=status, error=error,
                                  duration_ms=duration_ms))

