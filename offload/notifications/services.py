"""Telling members things: notifications, the e-mail outbox and its delivery.

Services elsewhere call ``notify()`` or ``queue_email()`` inside their own
transaction; both only write rows (and, on PostgreSQL, a NOTIFY that wakes the mail
worker when the transaction commits). ``deliver_outbox()`` is the one place that
sends, always between transactions, from ``flask jobs worker`` or the cron job: never
inside a web request.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import current_app, render_template
from jinja2 import TemplateNotFound
from sqlalchemy import (
    Integer,
    and_,
    case,
    column,
    delete,
    event,
    inspect,
    or_,
    select,
    table,
    text,
    update,
)
from sqlalchemy.orm import Session

from offload.core.db import atomic, db, in_atomic, is_postgresql, utcnow
from offload.core.errors import Invalid, NotAllowed
from offload.core.logs import log_context
from offload.core.mailer import send_email
from offload.core.zones import shown_in

from .kinds import kind_info
from .models import Channel, Notification, NotificationPreference, OutboxEmail
from .queries import Recipient, channel_for
from .subjects import subject_of

if TYPE_CHECKING:  # notifications sit below accounts: a member is only ever passed in
    from offload.accounts.models import User

log = logging.getLogger("offload.mail.outbox")

# A claimed row is left alone by other runners for this long. A send that takes
# longer (or a runner that dies mid-send) lets another runner send it again.
CLAIM_SECONDS = 300
TITLE_MAX = 200
SUBJECT_MAX = 200
ERROR_MAX = 500
# The PostgreSQL channel ``flask jobs worker`` LISTENs on: "there is mail work".
WORK_CHANNEL = "offload_mail"

# The member's unread counter (``User.unread_notifications``, read with the member on
# every page). Notifications sit below accounts, so the column is named, as the foreign
# keys name ``users.id``, rather than imported.
_members = table("users", column("id", Integer), column("unread_notifications", Integer))


# --- notifications -------------------------------------------------------------------

def notify(member: User | Recipient, kind: str, *, title: str, link: str | None = None,
           subject: str | None = None, context: dict[str, Any] | None = None,
           list_unsubscribe: str | None = None) -> Notification | None:
    """Tell ``member`` that something happened, in the app and by e-mail as they prefer.

    Writes: a Notification and, when the transaction commits, one more on the member's
    unread counter, unless the member turned ``kind`` off (then returns None); also an
    OutboxEmail when their channel for ``kind`` is e-mail, rendered from
    ``email/<kind>.*`` when those templates exist, else ``email/notification.*``: by the
    mail worker when it sends it, or here when ``context`` holds more than strings and
    numbers (rows, which only this transaction has at hand).
    Joins the caller's transaction. ``link`` is a path on this site ("/gigs/3");
    ``list_unsubscribe`` is a one-click stop URL for the mail's headers (RFC 8058).
    ``subject`` is what it is about (a gig's title), shown with the title; when not
    given, the gig that ``link`` points into (a gig, an offer or a project: see
    ``subjects``), one query.
    ``member`` may be a ``Recipient`` (``recipient_of``) read before the transaction:
    its channel is then the one read with it, and nothing is read here.
    Writes nothing (returns None) for a member who deleted their account: nobody reads
    it, and mail to their placeholder address would only fail until given up.
    Raises UnknownKind for a kind missing from the registry, ValueError for a bad link.
    """
    kind_info(kind)
    if link is not None and not _is_local_path(link):
        raise ValueError(f"notification link must be a path on this site, not {link!r}")
    if _is_deleted(member):
        return None
    title = _shorten(" ".join(title.split()), TITLE_MAX)
    with atomic() as session:
        channel = (member.channel if isinstance(member, Recipient)
                   else channel_for(member.id, kind))
        if channel == Channel.OFF:
            return None
        if subject is None:
            subject = subject_of(link)
        subject = _shorten(" ".join(subject.split()), SUBJECT_MAX) if subject else None
        notification = Notification(user_id=member.id, kind=kind, title=title, link=link,
                                    subject=subject)
        session.add(notification)
        session.info.setdefault(_UNREAD_ON_COMMIT, []).append(notification)
        if channel == Channel.EMAIL:
            template = kind if _email_exists(kind) else "notification"
            link_url = current_app.config["CANONICAL_URL"].rstrip("/") + link if link else None
            values = {**(context or {}), "kind": kind, "title": title,
                      "about": notification.subject_line, "link_url": link_url}
            if _is_plain(context):
                _queue_unrendered(member, template, values, list_unsubscribe)
            else:  # rows or objects in the context: render while they are at hand
                queue_email(member.email, template, user=member,
                            list_unsubscribe=list_unsubscribe, **values)
        session.flush()
        if _listener is not None:
            _listener(notification)
        return notification


# Told of every notification ``notify()`` records, in its transaction: the webhooks
# queue theirs there. Notifications sit below every feature, so ``create_app``
# installs it (``install_notification_listener``) rather than this module importing it.
_listener: Callable[[Notification], object] | None = None


def install_notification_listener(listener: Callable[[Notification], object] | None) -> None:
    global _listener
    _listener = listener


def mark_notification_read(notification: Notification, *, actor: User) -> None:
    """Mark one of the actor's notifications read (one less unread on their counter);
    reading it again changes nothing.

    Raises NotAllowed when the notification belongs to someone else.
    """
    if notification.user_id != actor.id:
        raise NotAllowed("That notification isn't yours.")
    with atomic() as session:
        result = session.execute(
            update(Notification)
            .where(Notification.id == notification.id, Notification.read_at.is_(None))
            .values(read_at=utcnow()).execution_options(synchronize_session=False))
        _count_unread(actor.id, -result.rowcount)


def mark_all_notifications_read(*, actor: User) -> int:
    """Mark every unread notification of the actor read (their counter goes down by as
    many); returns how many changed."""
    with atomic() as session:
        result = session.execute(
            update(Notification)
            .where(Notification.user_id == actor.id, Notification.read_at.is_(None))
            .values(read_at=utcnow()).execution_options(synchronize_session=False))
        _count_unread(actor.id, -result.rowcount)
        return result.rowcount


def erase_member_notifications(member_id: int) -> int:
    """Delete the member's notifications (those made in this transaction too) and
    notification settings, their unread counter back to zero; how many notifications.
    Joins the caller's transaction (an account being deleted)."""
    with atomic() as session:
        made = session.info.get(_UNREAD_ON_COMMIT)
        if made:  # not to be counted at commit: their rows go below
            session.info[_UNREAD_ON_COMMIT] = [n for n in made if n.user_id != member_id]
        session.flush()
        erased = session.execute(delete(Notification).where(Notification.user_id == member_id)
                                 .execution_options(synchronize_session=False)).rowcount
        session.execute(delete(NotificationPreference)
                        .where(NotificationPreference.user_id == member_id)
                        .execution_options(synchronize_session=False))
        session.execute(update(_members).where(_members.c.id == member_id)
                        .values(unread_notifications=0))
        return erased


def _count_unread(member_id: int, change: int, session=None) -> None:
    """Move the member's unread counter by ``change``, in the caller's transaction.

    One ``n = n + k`` statement, never a read and a write: two notifications committed
    at once both count (the row lock orders them). The rows' own UPDATE decides
    ``change`` for a read mark (its row count), so two tabs marking the same
    notification take it off once. It never goes below zero (a counter left short, say
    by a worker of the release before it, would otherwise refuse every read mark; the
    consistency check reports it).
    """
    if change:
        counter = _members.c.unread_notifications
        (session or db.session).execute(
            update(_members).where(_members.c.id == member_id)
            .values(unread_notifications=case((counter + change > 0, counter + change),
                                              else_=0)))


# New notifications are counted when their transaction commits, not when notify() runs:
# the counters are then the last rows it locks, after the ledger's accounts, in
# ascending member order, so two transactions that notify the same members (or one that
# notifies before it pays and one that pays before it notifies) can't deadlock. A
# notification undone with its savepoint is no longer in the session, and isn't counted.
_UNREAD_ON_COMMIT = "offload.unread_on_commit"


@event.listens_for(Session, "before_commit")
def _count_new_notifications(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: not yet
        return
    made = session.info.pop(_UNREAD_ON_COMMIT, None)
    if not made:
        return
    counts = Counter(n.user_id for n in made
                     if (state := inspect(n)).pending or state.persistent)
    for member_id in sorted(counts):
        _count_unread(member_id, counts[member_id], session)


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted_notifications(session: Session, transaction) -> None:
    if transaction.parent is None:  # the whole transaction ended (committed or not)
        session.info.pop(_UNREAD_ON_COMMIT, None)


def set_notification_preferences(*, actor: User, channels: dict[str, str]) -> None:
    """Save the actor's channel for each kind given; kinds not given keep their setting.

    Writes: one NotificationPreference per kind given (an explicit choice, even if it
    equals today's default, so later changes to defaults don't override it).
    Raises UnknownKind for an unregistered kind, Invalid for an unknown channel or for
    "off" on a kind that can't be turned off.
    """
    chosen: dict[str, Channel] = {}
    for kind, value in channels.items():
        info = kind_info(kind)
        try:
            chosen[kind] = Channel(value)
        except ValueError:
            raise Invalid(f"{value!r} is not a way we can notify you.") from None
        if chosen[kind] == Channel.OFF and not info.can_turn_off:
            raise Invalid(f"“{info.label}” can't be turned off; choose e-mail or in-app.")
    with atomic() as session:
        existing = {p.kind: p for p in session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == actor.id,
                                                 NotificationPreference.kind.in_(chosen)))}
        for kind, channel in chosen.items():
            if kind in existing:
                existing[kind].channel = channel
            else:
                session.add(NotificationPreference(user_id=actor.id, kind=kind, channel=channel))


# --- the outbox ------------------------------------------------------------------------

def _is_deleted(member: User | Recipient | None) -> bool:
    """A member who deleted their account (a ``Recipient`` says so by its channel)."""
    return getattr(member, "deleted_at", None) is not None


def queue_email(to: str, template: str, *, user: User | None = None,
                list_unsubscribe: str | None = None, **context: Any) -> OutboxEmail | None:
    """Render ``email/<template>.subject.txt``, ``.txt`` and (optional) ``.html`` and queue it.

    Writes: one unsent OutboxEmail, in the caller's transaction: if that rolls back,
    no mail exists. When it commits, the mail worker is woken (``wake_mail_worker``)
    and sends it; nothing here waits for SMTP.
    Templates get ``user`` and ``context``; links must come from ``external_url``.
    Times in it are shown in ``user``'s zone, else the site's default (not the zone of
    whoever's request queues it: the letter is for its recipient).
    ``list_unsubscribe``: a URL that stops this kind of mail with one POST; it goes into
    the List-Unsubscribe and List-Unsubscribe-Post headers, so mail clients offer it.
    Queues nothing (returns None) for a ``user`` who deleted their account, as ``notify``.
    """
    if _is_deleted(user):
        return None
    subject, text_body, html_body = _render_email(template, user.time_zone if user else None,
                                                  {**context, "user": user})
    with atomic() as session:
        email = OutboxEmail(user_id=user.id if user else None, to_address=to.strip().lower(),
                            template=template, subject=subject, text_body=text_body,
                            html_body=html_body, list_unsubscribe=list_unsubscribe)
        session.add(email)
        session.flush()
        wake_mail_worker()
    return email


def _queue_unrendered(member: User, template: str, context: dict[str, Any],
                      list_unsubscribe: str | None) -> None:
    """Queue a letter the worker renders when it sends it (``render_outbox_email``).

    Its context is what the templates get: ``context`` and, as ``user``, the member's
    name and time zone as they are now (so the letter reads as if rendered here). Joins
    the caller's transaction; flushed with it.
    """
    values = {**context, "user": {"id": member.id, "name": member.name,
                                  "time_zone": member.time_zone}}
    db.session.add(OutboxEmail(user_id=member.id, to_address=member.email.strip().lower(),
                               template=template, subject="", text_body="",
                               context=json.dumps(values, sort_keys=True),
                               list_unsubscribe=list_unsubscribe))
    wake_mail_worker()


def _is_plain(context: dict[str, Any] | None) -> bool:
    """Only strings, numbers and None: what JSON keeps as it is."""
    return all(value is None or isinstance(value, str | int | float)
               for value in (context or {}).values())


def render_outbox_email(email: OutboxEmail) -> tuple[str, str, str | None]:
    """The subject, text and HTML body the outbox row is sent with: rendered now from
    its template and context when it was queued unrendered, else as stored."""
    if email.context is None:
        return email.subject, email.text_body, email.html_body
    return _render_unrendered(email.template, email.context)


def wake_mail_worker() -> None:
    """Wake ``flask jobs worker`` when the caller's transaction commits (PostgreSQL).

    A NOTIFY inside the transaction is delivered on commit and dropped on rollback, and
    repeats in one transaction arrive as one. On SQLite the worker polls instead.
    """
    if is_postgresql():
        db.session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": WORK_CHANNEL})


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0  # will be retried
    given_up: int = 0  # failed for the last allowed time

    def __str__(self) -> str:
        return f"sent {self.sent}, failed {self.failed}, gave up {self.given_up}"


def deliver_outbox(*, now: datetime | None = None, limit: int = 100,
                   ids: list[int] | None = None,
                   keep_going: Callable[[], bool] | None = None) -> DeliveryReport:
    """Send the outbox e-mails that are due (or only ``ids`` among them), oldest first.

    For each row: claim it (a guarded UPDATE of ``locked_until``, so concurrent
    runners never send the same row), commit, render it if it was queued unrendered,
    send outside any transaction, then in
    a second short transaction mark it sent, or count the attempt and schedule the
    next one after OUTBOX_BACKOFF_BASE_SECONDS * 2**(attempts - 1). A row that failed
    OUTBOX_MAX_ATTEMPTS times stays in the table, unsent, with its last error.
    ``keep_going``: asked before each row; when it answers False the run ends there
    (a worker told to stop finishes the letter it is sending, then takes no other).
    Must not be called inside ``atomic()``: each row needs its own commits.
    """
    if in_atomic():
        raise RuntimeError("deliver_outbox() sends mail and must run outside atomic()")
    now = now or utcnow()
    report = DeliveryReport()
    stmt = (select(OutboxEmail.id).where(_is_due(now))
            .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id).limit(limit))
    if ids is not None:
        stmt = stmt.where(OutboxEmail.id.in_(ids))
    for email_id in list(db.session.scalars(stmt)):
        if keep_going is not None and not keep_going():
            break
        with log_context(outbox_id=email_id):  # on each line logged about this letter
            _deliver_one(email_id, now, report)
    return report


def _deliver_one(email_id: int, now: datetime, report: DeliveryReport) -> None:
    letter = _claim(email_id, now)
    if letter is None:
        return  # another runner took it, or it was sent meanwhile
    try:
        if letter.context is not None:  # queued unrendered: render it now
            letter = _rendered(letter)
        send_email(to=letter.to, subject=letter.subject, text=letter.text, html=letter.html,
                   list_unsubscribe=letter.list_unsubscribe)
    except Exception as exc:  # any failure is retried later; the reason is kept on the row
        if _record_failure(letter, now, exc):
            report.given_up += 1
        else:
            report.failed += 1
    else:
        _record_sent(letter, now)
        report.sent += 1


@dataclass(frozen=True)
class _Letter:
    id: int
    template: str
    to: str
    subject: str
    text: str
    html: str | None
    list_unsubscribe: str | None
    context: str | None  # JSON: not rendered yet
    rendered: bool = False  # rendered by this run: stored with the mark that it was sent


def _rendered(letter: _Letter) -> _Letter:
    subject, text_body, html_body = _render_unrendered(letter.template, letter.context)
    return replace(letter, subject=subject, text=text_body, html=html_body, rendered=True)


def _is_due(now: datetime):
    max_attempts = current_app.config["OUTBOX_MAX_ATTEMPTS"]
    return and_(OutboxEmail.sent_at.is_(None), OutboxEmail.attempts < max_attempts,
                OutboxEmail.next_attempt_at <= now,
                or_(OutboxEmail.locked_until.is_(None), OutboxEmail.locked_until <= now))


def _claim(email_id: int, now: datetime) -> _Letter | None:
    with atomic() as session:
        result = session.execute(
            update(OutboxEmail).where(OutboxEmail.id == email_id, _is_due(now))
            .values(locked_until=now + timedelta(seconds=CLAIM_SECONDS))
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:
            return None
        row = session.execute(
            select(OutboxEmail.template, OutboxEmail.to_address, OutboxEmail.subject,
                   OutboxEmail.text_body, OutboxEmail.html_body, OutboxEmail.list_unsubscribe,
                   OutboxEmail.context)
            .where(OutboxEmail.id == email_id)).one()
        return _Letter(email_id, *row)


def _record_sent(letter: _Letter, now: datetime) -> None:
    # a letter rendered for this send keeps what was sent, as one rendered when queued does
    sent = ({"subject": letter.subject, "text_body": letter.text, "html_body": letter.html,
             "context": None} if letter.rendered else {})
    with atomic() as session:
        session.execute(update(OutboxEmail).where(OutboxEmail.id == letter.id)
                        .values(sent_at=now, locked_until=None, **sent)
                        .execution_options(synchronize_session=False))
    log.info("outbox email %s (%s) sent", letter.id, letter.template)


def _record_failure(letter: _Letter, now: datetime, exc: Exception) -> bool:
    """Count the failed attempt and schedule the next; True when no attempt is left."""
    config = current_app.config
    with atomic() as session:
        attempts = session.scalar(
            select(OutboxEmail.attempts).where(OutboxEmail.id == letter.id)) + 1
        retry_at = now + timedelta(seconds=config["OUTBOX_BACKOFF_BASE_SECONDS"]
                                   * 2 ** (attempts - 1))
        error = _shorten(f"{type(exc).__name__}: {exc}", ERROR_MAX)
        session.execute(update(OutboxEmail).where(OutboxEmail.id == letter.id)
                        .values(attempts=attempts, next_attempt_at=retry_at, last_error=error,
                                locked_until=None)
                        .execution_options(synchronize_session=False))
    if attempts >= config["OUTBOX_MAX_ATTEMPTS"]:
        log.error("outbox email %s (%s) given up after %d attempts: %s",
                  letter.id, letter.template, attempts, error)
        return True
    log.warning("outbox email %s (%s) failed (attempt %d), next try at %s: %s",
                letter.id, letter.template, attempts, retry_at.isoformat(), error)
    return False


# --- rendering ----------------------------------------------------------------------------

def _render_email(template: str, time_zone: str | None, context: dict[str, Any]
                  ) -> tuple[str, str, str | None]:
    """The subject, text and HTML body of ``email/<template>.*``, its times shown in
    ``time_zone`` (the recipient's; None: the site's default)."""
    base = f"email/{template}"
    with shown_in(time_zone):
        # the subject is one header line, whatever the template's whitespace
        subject = _shorten(" ".join(render_template(f"{base}.subject.txt", **context).split()),
                           300)
        text_body = render_template(f"{base}.txt", **context)
        html_body = (render_template(f"{base}.html", **context)
                     if _template_exists(f"{base}.html") else None)
    return subject, text_body, html_body


def _render_unrendered(template: str, context_json: str) -> tuple[str, str, str | None]:
    # letters queued before members had a zone carry none: the site's default
    context = json.loads(context_json)
    return _render_email(template, (context.get("user") or {}).get("time_zone"), context)


def _email_exists(kind: str) -> bool:
    return (_template_exists(f"email/{kind}.subject.txt")
            and _template_exists(f"email/{kind}.txt"))


def _template_exists(name: str) -> bool:
    try:
        current_app.jinja_env.get_template(name)
    except TemplateNotFound:
        return False
    return True


def _is_local_path(link: str) -> bool:
    # browsers drop tabs and newlines in URLs, so "/\t/evil.example" would leave the site
    return (link.startswith("/") and not link.startswith("//") and "\\" not in link
            and not any(c.isspace() or not c.isprintable() for c in link))


def _shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[:limit - 1] + "…"
