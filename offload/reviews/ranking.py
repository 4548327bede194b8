"""A member's rating as an exact integer for ordering and filtering in SQL.

The Bayesian average of ``models.bayesian`` (a member with no review has the prior),
in millionths of a star by integer division, so orders, keysets and filters agree on
SQLite and PostgreSQL. Needs ``member_ratings`` outer-joined on the member.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import BigInteger, ColumnElement, cast, func, literal

from .models import MemberRating

MICRO = 1_000_000


def rating_key() -> ColumnElement[int]:
    """Minus the member's rating in millionths of a star: lower sorts first."""
    config = current_app.config
    weight = int(config["RATING_PRIOR_WEIGHT"])
    prior = int(round(config["RATING_PRIOR"] * MICRO)) * weight
    # 64-bit: a popular member's stars in millionths outgrow PostgreSQL's 32-bit integer
    stars = cast(func.coalesce(MemberRating.stars_sum, 0), BigInteger) * MICRO
    return -((literal(prior, BigInteger) + stars)
             // (literal(weight) + func.coalesce(MemberRating.reviews, 0)))


def rated_at_least(stars_micro: int) -> ColumnElement[bool]:
    """Members with a published review and a rating of at least ``stars_micro``."""
    return (func.coalesce(MemberRating.reviews, 0) > 0) & (rating_key() <= -stars_micro)
