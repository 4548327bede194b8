"""Offload: an invite-only network where vouched developers pass on client work.

``create_app`` is the only place that wires things together: configuration,
extensions, blueprints, CLI groups and error handlers, each from an explicit list.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, has_request_context
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from config import Config
from offload.core.cache import init_cache
from offload.core.db import configure_engine, db
from offload.core.errors import register_error_handlers
from offload.core.extensions import csrf, limiter, login_manager, mail, migrate
from offload.core.routing import init_routing
from offload.core.security import init_security
from offload.core.uploads import init_request_limits
from offload.core.zones import init_babel
from offload.observability import init_observability

ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("OFFLOAD_INSTANCE_PATH")
                or str(ROOT / "instance"))
    _load_config(app, overrides or {})
    init_observability(app)  # first: its request hooks time and name all the others
    _init_extensions(app)
    init_security(app)
    init_routing(app)
    _register_blueprints(app)
    _register_api(app)
    _register_cli(app)
    _register_template_helpers(app)
    _register_notification_subjects()
    _install_hooks()
    _register_conversation_places()
    register_error_handlers(app)
    return app


def _load_config(app: Flask, overrides: dict[str, Any]) -> None:
    app.config.from_object(Config)
    app.config.from_prefixed_env("OFFLOAD")
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    app.config.update(overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    uri = app.config["SQLALCHEMY_DATABASE_URI"] or f"sqlite:///{app.instance_path}/offload.db"
    if uri.startswith(("postgres://", "postgresql://")):  # psycopg 3 is the driver we ship
        uri = "postgresql+psycopg://" + uri.split("://", 1)[1]
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    app.config["UPLOAD_FOLDER"] = app.config["UPLOAD_FOLDER"] or f"{app.instance_path}/uploads"
    if app.config["PRODUCTION"] and (not os.environ.get("OFFLOAD_SECRET_KEY")
                                     and "SECRET_KEY" not in overrides):
        raise RuntimeError("OFFLOAD_SECRET_KEY must be set in production")
    if app.config["PRODUCTION"] and app.config["SECRET_KEY"] == Config.SECRET_KEY:
        raise RuntimeError("OFFLOAD_SECRET_KEY must not be the development default")
    if app.config["PRODUCTION"] and not app.config["TWO_FACTOR_REQUIRED_FOR_ADMINS"]:
        raise RuntimeError("OFFLOAD_TWO_FACTOR_REQUIRED_FOR_ADMINS is off in production: "
                           "admins must use two-factor log-in there")
    if (app.config["PRODUCTION"] and app.config["RATELIMIT_STORAGE_URI"].startswith("memory://")
            and app.config.get("RATELIMIT_ENABLED", True)
            and not app.config["RATELIMIT_SINGLE_PROCESS"]):
        # each worker process would keep its own counts: every limit multiplied by them
        raise RuntimeError("OFFLOAD_RATELIMIT_STORAGE_URI is memory:// in production: set it "
                           "to redis://... so all workers share the limits, or set "
                           "OFFLOAD_RATELIMIT_SINGLE_PROCESS=true if one process serves the site")
    if app.config["PRODUCTION"]:
        _check_payment_provider(app)
        _check_webauthn(app)
    if app.config["PROXY_FIX_X_FOR"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["PROXY_FIX_X_FOR"],
                                x_proto=1, x_host=0)


def _check_payment_provider(app: Flask) -> None:
    # without the key no deposit could start; without the webhook's secret every
    # delivery is refused, so members would pay and never be credited; without the
    # Connect endpoint's, no payout account would become ready nor a failed payout return
    if app.config["PAYMENT_PROVIDER"] != "stripe":
        return
    missing = [f"OFFLOAD_{name}" for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET",
                                              "STRIPE_CONNECT_WEBHOOK_SECRET")
               if not app.config[name]]
    if missing:
        raise RuntimeError(f"PAYMENT_PROVIDER is 'stripe' but {' and '.join(missing)} "
                           f"{'is' if len(missing) == 1 else 'are'} not set: set "
                           f"{'it' if len(missing) == 1 else 'them'} from the Stripe dashboard "
                           f"(API keys; the webhook endpoints' signing secrets)")


def _check_webauthn(app: Flask) -> None:
    # guessed from CANONICAL_URL, a wrong id would make every passkey already registered
    # unusable the day the guess changes: production names both
    missing = [f"OFFLOAD_{name}" for name in ("WEBAUTHN_RP_ID", "WEBAUTHN_ORIGIN")
               if not app.config[name]]
    if missing:
        raise RuntimeError(f"{' and '.join(missing)} must be set in production: the site's "
                           "domain (WEBAUTHN_RP_ID) and https://that-domain (WEBAUTHN_ORIGIN)")


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True,
                     compare_type=True)
    init_request_limits(app)  # before CSRFProtect, which parses the body
    csrf.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)
    init_cache(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Please log in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    init_babel(app, _member_time_zone)


def _member_time_zone() -> str | None:
    """The signed-in member's zone, which pages show times in; None for a visitor (and
    outside a request: mail is rendered in its recipient's zone, core.zones.shown_in)."""
    if has_request_context() and current_user.is_authenticated:
        return current_user.time_zone
    return None


def _register_blueprints(app: Flask) -> None:
    from offload.accounts.views import bp as accounts_bp
    from offload.admin.views import bp as admin_bp
    from offload.alerts.views import bp as alerts_bp
    from offload.cases.views import bp as cases_bp
    from offload.contact.views import bp as contact_bp
    from offload.conversations.views import bp as conversations_bp
    from offload.exports.views import bp as exports_bp
    from offload.feeds.views import bp as feeds_bp
    from offload.gigs.views import bp as gigs_bp
    from offload.invites.views import bp as invites_bp
    from offload.milestones.views import bp as milestones_bp
    from offload.moderation.views import bp as moderation_bp
    from offload.notifications.views import bp as notifications_bp
    from offload.offers.views import bp as offers_bp
    from offload.pages.views import bp as pages_bp
    from offload.payments.views import bp as payments_bp
    from offload.privacy.views import bp as privacy_bp
    from offload.profiles.views import bp as profiles_bp
    from offload.projects.views import bp as projects_bp
    from offload.reviews.views import bp as reviews_bp
    from offload.wallet.views import bp as wallet_bp
    from offload.webhooks.views import bp as webhooks_bp

    for bp in (pages_bp, accounts_bp, invites_bp, profiles_bp, gigs_bp, offers_bp,
               projects_bp, milestones_bp, notifications_bp, wallet_bp, cases_bp, moderation_bp,
               reviews_bp, alerts_bp, feeds_bp, conversations_bp, contact_bp, webhooks_bp,
               admin_bp, payments_bp, privacy_bp, exports_bp):
        app.register_blueprint(bp)


def _register_api(app: Flask) -> None:
    from offload.api.views import init_api

    init_api(app)


def _register_cli(app: Flask) -> None:
    from offload.accounts.cli import accounts_cli
    from offload.backups.cli import backup_cli
    from offload.commissions.cli import commissions_cli
    from offload.demo.cli import demo_cli
    from offload.jobs.cli import jobs_cli
    from offload.ledger.cli import ledger_cli
    from offload.payments.cli import payments_cli

    for group in (accounts_cli, demo_cli, jobs_cli, ledger_cli, commissions_cli, payments_cli,
                  backup_cli):
        app.cli.add_command(group)


def _register_notification_subjects() -> None:
    """Which gig a notification linking into each section is about."""
    from offload.gigs.queries import gig_title
    from offload.notifications.subjects import register_subject
    from offload.offers.queries import gig_title_of_offer
    from offload.projects.queries import gig_title_of_project

    register_subject("gigs", gig_title)
    register_subject("offers", gig_title_of_offer)
    register_subject("projects", gig_title_of_project)


def _install_hooks() -> None:
    """Answers that a lower package asks for and a higher one gives (the feature packages
    form a DAG: pyproject.toml, [tool.importlinter])."""
    from offload.accounts.queries import install_unread_messages
    from offload.accounts.services import install_feed_revoker
    from offload.accounts.standing import Standing, install_standing
    from offload.cases.hook import open_case_subjects, why_on_the_hook
    from offload.conversations.queries import unread_total_statement
    from offload.feeds.services import revoke_member_feed_link
    from offload.gigs.closing import OfferSide, install_offer_side
    from offload.notifications.services import install_notification_listener
    from offload.offers import services as offers
    from offload.webhooks.services import enqueue_webhooks

    install_standing(Standing(why_on_the_hook=why_on_the_hook,
                              open_case_subjects=open_case_subjects))
    # the top bar's message count, a subquery of the signed-in member's one statement
    install_unread_messages(unread_total_statement)
    # a password change or a suspension ends the feed link with the API's tokens
    install_feed_revoker(revoke_member_feed_link)
    install_offer_side(OfferSide(close_offers_on_gigs=offers.close_offers_on_gigs,
                                 take_back_awards_on_gigs=offers.take_back_awards_on_gigs,
                                 lapse_unanswered_awards=offers.lapse_unanswered_awards))
    # each notification of a kind webhooks carry is queued for the member's endpoints
    install_notification_listener(enqueue_webhooks)


def _register_conversation_places() -> None:
    """Where an accepted offer's conversation goes on: its project's page. Conversations
    sit below projects, so they are told the table here instead of importing it."""
    from offload.conversations.queries import continue_on_projects
    from offload.projects.models import Project

    continue_on_projects(Project.id, Project.offer_id)


def _register_template_helpers(app: Flask) -> None:
    from offload.core.templating import init_templating

    init_templating(app)
