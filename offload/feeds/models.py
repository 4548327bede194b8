"""A member's feed token: the salt it is made from and its hash (never the token)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from offload.core.db import db, utcnow

# a feed URL's token starts with it: secret scanners and people tell it from an API token
FEED_TOKEN_PREFIX = "offload_feed_"


class FeedToken(db.Model):
    """One per member at most. The token is ``FEED_TOKEN_PREFIX`` + the HMAC-SHA256 of
    (member, ``salt``) under ``SECRET_KEY`` (``queries.feed_token``); ``token_hash`` is
    its SHA-256, found by its unique index when a feed is requested."""

    __tablename__ = "feed_tokens"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    salt: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
