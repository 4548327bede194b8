"""Saving, changing and stopping keyword alerts, and the two jobs that send them.

Each public function is one transaction; the jobs run one transaction per alert, so a
failure on one alert leaves the others sent. See ``models`` for how a run finds new
gigs exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import current_app
from sqlalchemy import func, or_, select, update
from werkzeug.datastructures import MultiDict

from offload.accounts.models import User
from offload.core.db import atomic, db, insert_ignoring_conflicts, on_commit, transactional, utcnow
from offload.core.errors import Conflict, InvalidField, NotAllowed
from offload.core.links import external_url, site_path
from offload.core.text import clean_text
from offload.core.tokens import TokenInvalid, fingerprint, sign, unsign
from offload.core.transitions import insert_once, update_row
from offload.gigs.board import alert_matches
from offload.gigs.filters import BoardFilters
from offload.gigs.models import Gig
from offload.notifications.services import notify

from .models import NAME_MAX, QUERY_MAX, Alert, AlertHit, Frequency
from .naming import describe

log = logging.getLogger("offload.alerts")

STOP_PURPOSE = "alert-stop"
HITS_PER_RUN = 500  # the most new gigs one run counts for an alert (a day's at most)


# --- a member's alerts ---------------------------------------------------------------

def filters_of(alert: Alert) -> BoardFilters:
    """The board filters an alert was saved with (a filter the board no longer knows
    is left out, as the board itself does)."""
    filters, _ = BoardFilters.from_args(MultiDict(parse_qsl(alert.query)))
    return filters


def why_cannot_save_alert(actor: User) -> str | None:
    if not actor.is_confirmed:
        return "Confirm your e-mail address first: alerts are sent to it."
    return None


@transactional
def save_alert(*, actor: User, query_args: Mapping[str, Any], frequency: str,
               name: str = "") -> Alert:
    """Save the board search in ``query_args`` (the board's query string) as an alert.

    Refuses: an unconfirmed member (NotAllowed); a search with a filter the board
    can't use, or nothing to narrow the board (an alert for every gig) (InvalidField);
    an unknown frequency (InvalidField); the same search saved already, or
    ALERTS_PER_MEMBER alerts (Conflict).
    """
    reason = why_cannot_save_alert(actor)
    if reason:
        raise NotAllowed(reason)
    filters, errors = BoardFilters.from_args(query_args)
    if errors:
        field, message = next(iter(errors.items()))
        raise InvalidField(field, message)
    if not filters.is_filtered:
        raise InvalidField("q", "Add words or filters to the search first: an alert for "
                                "every new gig would be the whole board.")
    query = urlencode(filters.to_args())
    if len(query) > QUERY_MAX:
        raise InvalidField("q", "That search is too long to save as an alert.")
    name = clean_text("name", name, NAME_MAX, "The name") or describe(filters, NAME_MAX)
    alert = Alert(user_id=actor.id, query=query, frequency=_frequency(frequency).value,
                  name=name)
    kept = db.session.scalar(select(func.count()).select_from(Alert)
                             .where(Alert.user_id == actor.id))
    limit = current_app.config["ALERTS_PER_MEMBER"]
    if kept >= limit:
        raise Conflict(f"You have {limit} alerts, the most you can keep. Delete one first.")
    # the unique constraint settles a double submit
    insert_once(alert, refused="You have an alert for this search already.")
    _log_after_commit("alert saved", alert)
    return alert


@transactional
def change_alert(alert: Alert, *, actor: User, frequency: str, name: str) -> Alert:
    """Rename an alert or change how it is delivered. Refuses anyone but its member."""
    _own(alert, actor)
    alert.name = clean_text("name", name, NAME_MAX, "The name", required=True)
    alert.frequency = _frequency(frequency).value
    return alert


@transactional
def stop_alert(alert: Alert, *, actor: User | None = None) -> bool:
    """Stop an alert (its member, or anyone holding the stop link: ``actor`` None).
    True when it was running; stopping a stopped alert changes nothing."""
    if actor is not None:
        _own(alert, actor)
    stopped = update_row(alert, Alert.stopped_at.is_(None), stopped_at=utcnow(),
                         refused=None)
    db.session.refresh(alert)
    if stopped:
        _log_after_commit("alert stopped", alert)
    return bool(stopped)


@transactional
def resume_alert(alert: Alert, *, actor: User) -> Alert:
    """Start a stopped alert again, from now: what was published meanwhile isn't sent."""
    _own(alert, actor)
    if alert.stopped_at is not None:
        alert.stopped_at = None
        alert.since = alert.checked_until = utcnow()
    return alert


@transactional
def delete_alert(alert: Alert, *, actor: User) -> None:
    _own(alert, actor)
    db.session.execute(AlertHit.__table__.delete().where(AlertHit.alert_id == alert.id))
    db.session.delete(alert)


def stop_token(alert: Alert) -> str:
    """A stop link's token: the alert's id and a fingerprint of its owner and creation,
    so the link of a deleted alert never names another one that got its id."""
    return sign(STOP_PURPOSE, [alert.id, _fingerprint(alert)])


def _fingerprint(alert: Alert) -> str:
    return fingerprint(str(alert.user_id), alert.created_at.replace(tzinfo=None).isoformat())


def alert_for_stop_token(token: str) -> Alert | None:
    """The alert a stop link names, or None when the link is forged, too old
    (ALERT_STOP_LINK_DAYS) or its alert was deleted. Reads only."""
    max_age = current_app.config["ALERT_STOP_LINK_DAYS"] * 86400
    try:
        alert_id, print_ = unsign(STOP_PURPOSE, token, max_age=max_age)
    except (TokenInvalid, TypeError, ValueError):
        return None
    alert = db.session.get(Alert, alert_id) if isinstance(alert_id, int) else None
    return alert if alert is not None and _fingerprint(alert) == print_ else None


def _own(alert: Alert, actor: User) -> None:
    if alert.user_id != actor.id:
        raise NotAllowed("That alert isn't yours.")


def _frequency(value: str) -> Frequency:
    try:
        return Frequency(value)
    except ValueError:
        raise InvalidField("frequency", "Choose “at once” or “daily digest”.") from None


def _log_after_commit(message: str, alert: Alert) -> None:
    alert_id, user_id = alert.id, alert.user_id
    on_commit(lambda: log.info(message, extra={"alert_id": alert_id, "user_id": user_id}))


# --- the jobs ------------------------------------------------------------------------

def send_instant_alerts(*, now: datetime | None = None) -> int:
    """The job for alerts delivered at once: each running one tells its member about the
    gigs published since the last run. Returns how many messages went out."""
    now = now or utcnow()
    return _run_all(_running(Frequency.INSTANT).where(Alert.checked_until < now), now,
                    daily=False)


def send_daily_digests(*, now: datetime | None = None) -> int:
    """The job for daily digests: from ALERT_DIGEST_HOUR (UTC) on, each running daily
    alert not yet run today sends the gigs published since its last digest, once a day
    however often the job runs. Returns how many messages went out."""
    now = now or utcnow()
    if now.hour < current_app.config["ALERT_DIGEST_HOUR"]:
        return 0
    return _run_all(_running(Frequency.DAILY).where(
        or_(Alert.digest_sent_on.is_(None), Alert.digest_sent_on < now.date())), now,
        daily=True)


def _running(frequency: Frequency):
    """(id, checked_until) of the running alerts of ``frequency`` whose members can be
    written to (confirmed, not suspended)."""
    return (select(Alert.id, Alert.checked_until).join(User, User.id == Alert.user_id)
            .where(Alert.frequency == frequency.value, Alert.stopped_at.is_(None),
                   User.email_confirmed_at.is_not(None), User.suspended_at.is_(None))
            .order_by(Alert.id))


def _run_all(due, now: datetime, *, daily: bool) -> int:
    db.session.rollback()  # end any read transaction: each alert gets its own
    sent = 0
    for alert_id, seen in db.session.execute(due).all():
        try:
            sent += _run(alert_id, seen, now, daily=daily)
        except Exception:  # one broken alert must not hold up the ones after it
            log.exception("keyword alert %s failed; it is tried again next run", alert_id)
    return sent


def _run(alert_id: int, seen: datetime, now: datetime, *, daily: bool) -> int:
    """Claim one alert for this run and send what is new for it; 1 if a message went."""
    with atomic():
        claim = update(Alert).where(Alert.id == alert_id, Alert.stopped_at.is_(None))
        if daily:
            claim = claim.where(or_(Alert.digest_sent_on.is_(None),
                                    Alert.digest_sent_on < now.date()))
            claim = claim.values(checked_until=now, digest_sent_on=now.date())
        else:
            claim = claim.where(Alert.checked_until == seen).values(checked_until=now)
        if db.session.execute(claim.execution_options(synchronize_session=False)).rowcount != 1:
            return 0  # another runner has it, or it was stopped meanwhile
        alert = db.session.get(Alert, alert_id)
        db.session.refresh(alert)
        slack = timedelta(seconds=current_app.config["ALERT_SLACK_SECONDS"])
        shown = current_app.config["ALERT_GIGS_PER_MESSAGE"]
        found = alert_matches(
            filters_of(alert), published_after=max(alert.since, seen - slack),
            published_until=now, limit=HITS_PER_RUN, today=now.date(),
            not_posted_by=alert.user_id,
            not_among=select(AlertHit.gig_id).where(AlertHit.alert_id == alert.id))
        # every match counts as told (the message lists the first ones and links to the
        # board for the rest), so none comes back in a later message
        new = _record_hits(alert, found)
        if not new:
            return 0
        gigs = [gig for gig in found if gig.id in new]
        return int(_tell(alert, gigs[:shown], count=len(gigs),
                         capped=len(found) == HITS_PER_RUN))


def _record_hits(alert: Alert, gigs: list[Gig]) -> set[int]:
    """Record that ``alert`` told about ``gigs``; the ids it had not told about before."""
    if not gigs:
        return set()
    rows = db.session.execute(
        insert_ignoring_conflicts(AlertHit)
        .values([{"alert_id": alert.id, "gig_id": gig.id} for gig in gigs])
        .returning(AlertHit.gig_id)).all()
    return {gig_id for (gig_id,) in rows}


def _tell(alert: Alert, gigs: list[Gig], *, count: int, capped: bool) -> bool:
    """Notify the member (keyword_alert) of ``count`` new gigs, listing ``gigs``; False
    when they turned that kind off."""
    member = db.session.get(User, alert.user_id)
    what = "A new gig matches" if count == 1 else \
        f"{count}{'+' if capped else ''} new gigs match"
    stop_url = external_url("alerts.stop", token=stop_token(alert))
    return notify(member, "keyword_alert", title=f"{what} your alert “{alert.name}”",
           link=site_path("gigs.board", _query=alert.query),
           context={"alert": alert, "gigs": gigs, "more": count - len(gigs),
                    "stop_url": stop_url,
                    "board_url": external_url("gigs.board", _query=alert.query),
                    "daily": alert.frequency == Frequency.DAILY},
           list_unsubscribe=stop_url) is not None
