"""Making, replacing and revoking a member's feed link (one transaction each)."""

from __future__ import annotations

import logging

from sqlalchemy import delete, select

from offload.accounts.models import User
from offload.core.db import atomic, utcnow
from offload.core.errors import Conflict
from offload.core.tokens import hash_token, new_token
from offload.ledger.idempotency import claim_key, record_outcome

from .models import FeedToken
from .queries import FeedLink, feed_token

log = logging.getLogger("offload.feeds")


def make_feed_link(*, actor: User, once_key: str) -> FeedLink:
    """Make the member's feed link, or a new one in place of theirs.

    State: a new salt, so a new token; the old feed URLs answer 404 from now on.
    Refuses: ``once_key`` already used (Conflict: the form was posted again, and the
    link it made is the one on the page), or missing.
    """
    salt = new_token()
    token = feed_token(actor.id, salt)
    now = utcnow()
    with atomic() as session:
        # one link per member: of two requests at once, the second waits here
        session.execute(select(User.id).where(User.id == actor.id).with_for_update())
        if claim_key(actor.id, once_key, {"op": "make_feed_link"}) is not None:
            raise Conflict("That feed link was already made: it is the one shown below.")
        row = session.get(FeedToken, actor.id)
        if row is None:
            session.add(FeedToken(user_id=actor.id, salt=salt, token_hash=hash_token(token),
                                  created_at=now))
        else:
            row.salt, row.token_hash, row.created_at = salt, hash_token(token), now
        record_outcome(actor.id, once_key, {"feed_link": "made"})
    log.info("feed link made", extra={"user_id": actor.id, "replaced": row is not None})
    return FeedLink(token, now)


def revoke_feed_link(*, actor: User) -> None:
    """Revoke the member's feed link: its URLs answer 404 from now on.

    Refuses: no link to revoke (Conflict).
    """
    with atomic() as session:
        gone = session.execute(delete(FeedToken).where(FeedToken.user_id == actor.id)
                               .execution_options(synchronize_session=False)).rowcount
        if gone != 1:
            raise Conflict("You have no feed link to revoke.")
    log.info("feed link revoked", extra={"user_id": actor.id})


def revoke_member_feed_link(member_id: int) -> bool:
    """Revoke the member's feed link if they have one (their password changed, or they
    were suspended: ``accounts.services.revoke_member_tokens`` calls this); whether
    there was one. Joins the caller's transaction."""
    with atomic() as session:
        return session.execute(delete(FeedToken).where(FeedToken.user_id == member_id)
                               .execution_options(synchronize_session=False)).rowcount == 1
