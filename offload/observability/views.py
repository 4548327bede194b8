"""``/readyz`` and ``/metrics``: for the load balancer and for Prometheus, not members.

``/healthz`` (``pages``) says the process answers; ``/readyz`` says it can serve: the
database answers and its Alembic revision is the migrations' head, read once from
``migrations/`` when the app starts (a deploy that ships a migration is not ready until
``flask db upgrade`` has run). One query a probe. 200, else 503 with a short JSON reason.
The probe has its own connection, not one of the app's pool, bounded by
``READY_TIMEOUT_SECONDS`` to connect and to query (PostgreSQL's ``connect_timeout`` and
``statement_timeout``, SQLite's busy timeout): a dead or locked database answers 503 in
seconds instead of holding the load balancer's check.

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
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from werkzeug.exceptions import NotFound

from offload.core.db import db
from offload.core.extensions import limiter

from .metrics import render_metrics

bp = Blueprint("observability", __name__)

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

# a load balancer's check usually gives up after about 5 s: the probe says why before then
READY_TIMEOUT_SECONDS = 3


def init_readiness(app: Flask, migrations: Path = MIGRATIONS) -> None:
    heads = ScriptDirectory(str(migrations)).get_heads()
    app.extensions["offload_migration_heads"] = frozenset(heads)


def why_not_ready() -> str | None:
    """Why the app can't serve yet, or None."""
    heads = current_app.extensions["offload_migration_heads"]
    try:
        connection = _probe_engine().connect()
    except DBAPIError:
        return "the database does not answer"
    with connection:
        try:
            if connection.dialect.name == "postgresql":
                timeout_ms = int(READY_TIMEOUT_SECONDS * 1000)
                connection.exec_driver_sql(f"SET LOCAL statement_timeout = {timeout_ms}")
            current = set(connection.execute(
                text("SELECT version_num FROM alembic_version")).scalars())
        except DBAPIError as e:
            if _no_such_table(e):
                return "the database has no migrations applied"
            return "the database does not answer"
        finally:
            connection.rollback()
    if current != heads:
        return (f"the database is at {', '.join(sorted(current)) or 'no revision'}, "
                f"the code at {', '.join(sorted(heads))}: run flask db upgrade")
    return None


def _probe_engine() -> Engine:
    """An engine for the probe alone, made at its first use: no pool (each probe
    connects, as a new worker would), the app's URL and connect arguments, and a bound on
    the wait to connect and for a lock. An in-memory SQLite database is the app's own."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    engine = app.extensions.get("offload_probe_engine")
    if engine is not None:
        return engine
    url = db.engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        engine = db.engine
    else:
        options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
        connect_args = dict(options.get("connect_args") or {})
        if url.get_backend_name() == "sqlite":
            connect_args["timeout"] = READY_TIMEOUT_SECONDS
        elif url.get_backend_name() == "postgresql":
            # libpq counts whole seconds, and treats less than 2 as 2
            connect_args["connect_timeout"] = max(2, round(READY_TIMEOUT_SECONDS))
        engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    app.extensions["offload_probe_engine"] = engine
    return engine


def _no_such_table(error: DBAPIError) -> bool:
    """Whether the query failed because alembic_version is missing (not a timeout)."""
    sqlstate = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return sqlstate == "42P01" or "no such table" in str(error.orig)


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
