"""``/readyz`` and ``/metrics``: for the load balancer and for Prometheus, not members.

``/healthz`` (``pages``) says the process answers; ``/readyz`` says it can serve: the
database answers and its Alembic revision is the migrations' head, read once from
``migrations/`` when the app starts (a deploy that ships a migration is not ready until
``flask db upgrade`` has run). One query a probe. 200, else 503 with a short JSON reason.

``/metrics`` answers only ``Authorization: Bearer <METRICS_TOKEN>`` (compared in constant
time); with no token configured it is 404, as if it did not exist (production starts
anyway, with a warning in the log: metrics are not worth an outage).

Neither is rate limited (a prober must not lock itself out), neither touches the session
(no cookie), and neither is cached.
"""

from __future__ import annotations

import hmac
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import Blueprint, Flask, Response, current_app, jsonify, request
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import NotFound

from offload.core.db import db
from offload.core.extensions import limiter

from .metrics import render_metrics

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


@bp.get("/metrics")
@limiter.exempt
def metrics():
    token = current_app.config["METRICS_TOKEN"]
    if not token:
        raise NotFound()
    given = request.headers.get("Authorization", "")
    # str(): a token of digits arrives from OFFLOAD_METRICS_TOKEN parsed as a number
    if not hmac.compare_digest(given.encode(), f"Bearer {str(token)}".encode()):
        return Response("a bearer token is needed\n", 401, {
            "WWW-Authenticate": 'Bearer realm="metrics"', "Cache-Control": "no-store"},
            mimetype="text/plain")
    response = render_metrics()
    response.headers["Cache-Control"] = "no-store"
    return response
