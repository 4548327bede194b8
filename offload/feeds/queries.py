"""The member's feed link, and who a feed URL's token speaks for."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from flask import current_app
from sqlalchemy import select

from offload.accounts.models import User
from offload.accounts.queries import SignedIn, signed_in
from offload.core.db import db
from offload.core.links import external_url
from offload.core.tokens import hash_token

from .models import FEED_TOKEN_PREFIX, FeedToken

TOKEN_MAX = 128  # longer is no token of ours: not worth a lookup


def feed_token(member_id: int, salt: str) -> str:
    """The token of the member's feed URLs: derived, so it can be shown again without
    being stored (see the package's design note)."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"offload.feed-token\x1f{member_id}\x1f{salt}".encode(),
                      hashlib.sha256).digest()
    return FEED_TOKEN_PREFIX + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class FeedLink:
    """The member's feed token and the absolute URLs of their feeds."""

    token: str
    created_at: datetime

    def gigs_url(self, board_args: dict[str, str] | None = None) -> str:
        """The feed of a board search (``BoardFilters.to_args()``); the feed is newest
        first whatever the search's sort, so the sort is left out."""
        args = {k: v for k, v in (board_args or {}).items() if k != "sort"}
        return external_url("feeds.gigs", token=self.token, _query=urlencode(args))

    def alert_url(self, alert_id: int) -> str:
        return external_url("feeds.alert", token=self.token, alert_id=alert_id)

    def notifications_url(self) -> str:
        return external_url("feeds.notifications", token=self.token)


def feed_link_of(member_id: int) -> FeedLink | None:
    """The member's feed link, or None: none made, revoked, or made under another
    ``SECRET_KEY`` (its token can't be derived again, so there is nothing to show)."""
    row = db.session.execute(select(FeedToken.salt, FeedToken.token_hash, FeedToken.created_at)
                             .where(FeedToken.user_id == member_id)).first()
    if row is None:
        return None
    token = feed_token(member_id, row.salt)
    if not hmac.compare_digest(hash_token(token), row.token_hash):
        return None
    return FeedLink(token, row.created_at)


@dataclass(frozen=True, slots=True)
class FeedReader:
    """Who a feed URL's token speaks for, and since when the link exists (what an empty
    feed gives as its ``updated``)."""

    member: SignedIn
    since: datetime


_READER = (select(FeedToken.user_id, FeedToken.token_hash, FeedToken.created_at,
                  User.session_token)
           .join(User, User.id == FeedToken.user_id))


def feed_reader(token: str) -> FeedReader | None:
    """The member a feed URL's token speaks for, or None: not a feed token, revoked or
    replaced, or its member suspended (``signed_in`` loads no suspended member)."""
    if not token.startswith(FEED_TOKEN_PREFIX) or len(token) > TOKEN_MAX:
        return None
    digest = hash_token(token)
    row = db.session.execute(_READER.where(FeedToken.token_hash == digest)).first()
    # found by the index; compared in constant time all the same
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    member = signed_in(row.user_id, row.session_token)
    return FeedReader(member, row.created_at) if member is not None else None
