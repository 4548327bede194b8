"""The feeds (``/feeds/<token>/...``: no log-in, the token is the credential) and the
Settings page's buttons that make, replace and revoke the feed link.

A feed answers 404 for a token that isn't a live one (unknown, replaced, revoked, or
its member suspended), as for another member's alert: a feed URL says nothing about
why. Feed responses read no session and set no cookie (the token authenticates them,
not a cookie, and nothing here writes to the session); they are rate limited per
address, and answer a conditional GET with 304 when the feed is unchanged (an ETag of
the body and Last-Modified of its newest entry: the feed is built either way, but a
feed reader polling every few minutes downloads it only when it changed).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_login import current_user, login_required

from offload.core.extensions import limiter
from offload.core.submit import submit_button

from .forms import MakeFeedLinkForm, ReplaceFeedLinkForm, RevokeFeedLinkForm
from .page import AtomFeed, alert_feed, board_feed, notifications_feed
from .queries import FeedLink, FeedReader, feed_link_of, feed_reader
from .services import make_feed_link, revoke_feed_link

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

ATOM = "application/atom+xml"
_limit = limiter.limit(lambda: current_app.config["FEED_LIMIT"])


@bp.errorhandler(404)
def _not_found(_error):
    """A short plain answer: a feed reader shows no page, and the site's error page
    would read the session of a browser that opens the URL (its flashed messages)."""
    return current_app.response_class("No such feed.\n", 404, mimetype="text/plain")


def _reader(token: str) -> tuple[FeedReader, FeedLink]:
    reader = feed_reader(token)
    if reader is None:
        abort(404)
    return reader, FeedLink(token, reader.since)


@bp.get("/<token>/gigs.atom")
@_limit
def gigs(token: str):
    reader, link = _reader(token)
    return _atom(board_feed(reader, link, request.args))


@bp.get("/<token>/alerts/<int:alert_id>.atom")
@_limit
def alert(token: str, alert_id: int):
    reader, link = _reader(token)
    return _atom(alert_feed(reader, link, alert_id))


@bp.get("/<token>/notifications.atom")
@_limit
def notifications(token: str):
    reader, link = _reader(token)
    return _atom(notifications_feed(reader, link))


def _atom(feed: AtomFeed):
    response = current_app.response_class(
        render_template("feeds/feed.xml", feed=feed, rfc3339=_rfc3339),
        content_type=f"{ATOM}; charset=utf-8")
    # a reader may keep it, but asks again each time (its token makes it private)
    response.headers["Cache-Control"] = "private, no-cache"
    response.last_modified = feed.updated
    response.add_etag()
    return response.make_conditional(request)


def _rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the Settings page's buttons ------------------------------------------------------------

def _settings() -> str:
    return url_for("accounts.settings", _anchor="feeds")


@bp.post("/link")
@login_required
def make_link():
    """Make the feed link, or a new one in place of the member's (confirmed: the old
    URLs stop working). Its one-time key makes a second post of the same form a no-op."""
    replacing = feed_link_of(current_user.id) is not None
    form = ReplaceFeedLinkForm() if replacing else MakeFeedLinkForm()
    return submit_button(form, lambda: make_feed_link(
                             actor=current_user._get_current_object(),
                             once_key=form.once_key.data or ""),
                         done=("Made a new feed link: the old links no longer work."
                               if replacing else "Made your feed link."),
                         to=_settings())


@bp.post("/link/revoke")
@login_required
def revoke_link():
    return submit_button(RevokeFeedLinkForm(), lambda: revoke_feed_link(
                             actor=current_user._get_current_object()),
                         done="Revoked your feed link: its feeds no longer answer.",
                         to=_settings())
