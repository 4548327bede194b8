"""``/readyz``: for the load balancer, not members.

``/healthz`` (``pages``) says the process answers; ``/readyz`` says it can serve: the
database answers and its Alembic revision is the migrations' head, read once from
``migrations/`` when the app starts (a deploy that ships a migration is not ready until
``flask db upgrade`` has run). One query a probe. 200, else 503 with a short JSON reason.

It is not rate limited (a prober must not lock itself out), does not touch the session
(no cookie), and is not cached.
"""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from offload.core.db import db
from offload.core.extensions import limiter

bp = Blueprint("observability", __name__)

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def init_readiness(app: Flask, migrations: Path = MIGRATIONS) -> None:
    heads = ScriptDirectory(str(migrations)).get_heads()
    app.extensions["offload_migration_heads"] = frozenset(heads)


def why_not_ready() -> str | None:
    """Why the app can't serve yet, or None."""
    heads = current_app.extensions["offload_migration_heads"]
    try:
        connection = db.engine.connect()
    except DBAPIError:
        return "the database does not answer"
    with connection:
        try:
            current = set(connection.execute(
                text("SELECT version_num FROM alembic_version")).scalars())
        except DBAPIError:
            return "the database has no migrations applied"
        finally:
            connection.rollback()
    if current != heads:
        return (f"the database is at {', '.join(sorted(current)) or 'no revision'}, "
                f"the code at {', '.join(sorted(heads))}: run flask db upgrade")
    return None


@bp.get("/readyz")
@limiter.exempt
def readyz():
    reason = why_not_ready()
    body = ({"status": "ready"} if reason is None
            else {"status": "not ready", "reason": reason})
    response = jsonify(body)
    response.status_code = 200 if reason is None else 503
    response.headers["Cache-Control"] = "no-store"
    return response

