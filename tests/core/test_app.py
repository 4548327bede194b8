import os

import pytest
from sqlalchemy import text

from offload import create_app
from offload.core.db import atomic, db, on_commit
from tests.support.app import app_config


def test_security_headers_on_every_response(client):
    r = client.get("/")
    csp = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "object-src 'none'" in csp
    assert "frame-ancestors 'none'" in csp and "base-uri 'none'" in csp
    assert "script-src" not in csp or "unsafe-inline" not in csp
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"]


@pytest.mark.parametrize("url", ["/", "/login", "/no-such-page", "/static/site.css"])
def test_permissions_and_opener_policies_on_every_response(client, url):
    r = client.get(url)
    assert "camera=()" in r.headers["Permissions-Policy"]
    assert "geolocation=()" in r.headers["Permissions-Policy"]
    assert r.headers["Cross-Origin-Opener-Policy"] == "same-origin"


def test_member_pages_are_not_cached(client, make_member, login):
    login(make_member("alice"))
    assert client.get("/dashboard").headers["Cache-Control"] == "no-store"


def test_friendly_404_page(client):
    r = client.get("/no/such/page")
    assert r.status_code == 404 and "find that page" in r.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/projects/99999999999999999999", "/gigs/2147483648",
                                  "/conversations/99999999999999999999/messages/since"])
def test_an_id_too_big_for_the_database_is_not_found(client, make_member, login, path):
    login(make_member("alice"))
    r = client.get(path)
    assert r.status_code == 404 and "find that page" in r.get_data(as_text=True)


def test_friendly_500_page_without_traceback(app, tmp_path):
    broken = create_app(app_config(tmp_path, PROPAGATE_EXCEPTIONS=False))

    @broken.get("/boom")
    def boom():
        raise RuntimeError("secret internals")

    r = broken.test_client().get("/boom")
    body = r.get_data(as_text=True)
    assert r.status_code == 500 and "Something went wrong" in body
    assert "secret internals" not in body and "Traceback" not in body


@pytest.fixture(autouse=True)
def _webauthn_named(monkeypatch):
    """Production needs the passkeys' relying party named; these tests are about the rest."""
    monkeypatch.setenv("OFFLOAD_WEBAUTHN_RP_ID", "offload.example")
    monkeypatch.setenv("OFFLOAD_WEBAUTHN_ORIGIN", "https://offload.example")


def test_production_refuses_to_start_without_the_webauthn_relying_party(monkeypatch,
                                                                        tmp_path):
    monkeypatch.setenv("OFFLOAD_SECRET_KEY", "a real secret from the environment")
    monkeypatch.delenv("OFFLOAD_WEBAUTHN_ORIGIN")
    settings = {"PRODUCTION": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db",
                "RATELIMIT_SINGLE_PROCESS": True}
    with pytest.raises(RuntimeError, match="^OFFLOAD_WEBAUTHN_ORIGIN must be set"):
        create_app(settings)
    assert create_app({**settings, "WEBAUTHN_ORIGIN": "https://offload.example"})
    assert create_app({**settings, "PRODUCTION": False})  # development guesses


def test_production_refuses_to_start_without_secret_key(monkeypatch, tmp_path):
    monkeypatch.delenv("OFFLOAD_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"PRODUCTION": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db"})


def test_production_sets_secure_cookies_and_hsts(monkeypatch, tmp_path):
    monkeypatch.setenv("OFFLOAD_SECRET_KEY", "a real secret from the environment")
    prod = create_app({"PRODUCTION": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db",
                       "RATELIMIT_SINGLE_PROCESS": True})
    assert prod.config["SESSION_COOKIE_SECURE"] and prod.config["REMEMBER_COOKIE_SECURE"]
    assert "max-age" in prod.test_client().get("/").headers["Strict-Transport-Security"]


def test_production_refuses_per_process_rate_limit_storage(monkeypatch, tmp_path):
    """With memory:// each worker counts alone: 2 workers let each limit through twice."""
    monkeypatch.setenv("OFFLOAD_SECRET_KEY", "a real secret from the environment")
    monkeypatch.delenv("OFFLOAD_RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.delenv("OFFLOAD_RATELIMIT_SINGLE_PROCESS", raising=False)
    settings = {"PRODUCTION": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db"}
    with pytest.raises(RuntimeError, match="RATELIMIT_STORAGE_URI"):
        create_app(settings)
    # the operator says one process serves the site: memory:// is then shared by all
    monkeypatch.setenv("OFFLOAD_RATELIMIT_SINGLE_PROCESS", "true")
    assert create_app(settings).config["RATELIMIT_STORAGE_URI"] == "memory://"
    # development keeps the convenient default
    monkeypatch.delenv("OFFLOAD_RATELIMIT_SINGLE_PROCESS")
    assert not create_app({**settings, "PRODUCTION": False}).config["PRODUCTION"]


@pytest.mark.parametrize("missing", [("STRIPE_SECRET_KEY",), ("STRIPE_WEBHOOK_SECRET",),
                                     ("STRIPE_CONNECT_WEBHOOK_SECRET",),
                                     ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET")])
def test_production_refuses_stripe_without_its_secrets(monkeypatch, tmp_path, missing):
    """Without the key no deposit could start; without the webhook's secret none could be
    confirmed (every delivery refused): members would pay and never be credited."""
    monkeypatch.setenv("OFFLOAD_SECRET_KEY", "a real secret from the environment")
    secrets = {"STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_x",
               "STRIPE_CONNECT_WEBHOOK_SECRET": "whsec_connect_x"}
    settings = {"PRODUCTION": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db",
                "RATELIMIT_SINGLE_PROCESS": True, "PAYMENT_PROVIDER": "stripe",
                **secrets, **dict.fromkeys(missing, "")}
    with pytest.raises(RuntimeError) as refused:
        create_app(settings)
    assert str(refused.value).startswith("PAYMENT_PROVIDER is 'stripe' but ")
    assert all(f"OFFLOAD_{name}" in str(refused.value) for name in missing)
    assert create_app({**settings, **secrets}).config["PAYMENT_PROVIDER"] == "stripe"
    # the sandbox needs neither, and development starts without them
    assert create_app({**settings, "PAYMENT_PROVIDER": "sandbox"})
    assert create_app({**settings, "PRODUCTION": False})


def test_environment_overrides_config(monkeypatch, tmp_path):
    monkeypatch.setenv("OFFLOAD_INVITE_QUOTA", "7")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@127.0.0.1:5/x")
    configured = create_app({"SECRET_KEY": "x"})
    assert configured.config["INVITE_QUOTA"] == 7
    assert configured.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@127.0.0.1:5/x"


def test_connection_settings(app):
    if db.engine.dialect.name == "postgresql":
        level = db.session.execute(text("SHOW transaction_isolation")).scalar()
        assert level == "read committed"
        return
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert db.session.execute(text("PRAGMA busy_timeout")).scalar() >= 5000


def test_atomic_rolls_back_and_skips_on_commit_callbacks(make_member):
    from offload.accounts.models import User

    called = []
    with pytest.raises(RuntimeError), atomic():
        db.session.add(User(username="ghost", email="g@example.com", password_hash="x",
                            display_name="G"))
        on_commit(lambda: called.append(1))
        raise RuntimeError
    assert db.session.scalar(db.select(User).where(User.username == "ghost")) is None
    assert called == []
    with atomic():
        with atomic():  # nested blocks join the outer transaction
            on_commit(lambda: called.append(2))
        assert called == []
    assert called == [2]


def test_the_suite_runs_on_the_database_it_was_given():
    wanted = "postgresql" if os.environ.get("OFFLOAD_TEST_DATABASE_URL") else "sqlite"
    assert db.engine.dialect.name == wanted


@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_admin_post_only_routes_are_not_found_on_get_for_non_admins(client, make_member,
                                                                   login, who):
    if who == "member":
        login(make_member("alice"))
    for path in ("/admin/withdrawals/1/paid", "/admin/cases/1/resolve",
                 "/admin/tree/alice/reparent", "/admin/contact/1/answer"):
        assert client.get(path).status_code == 404, path


def test_admins_are_told_a_post_only_route_takes_no_get(client, make_member, login):
    login(make_member("root", admin=True))
    assert client.get("/admin/withdrawals/1/paid").status_code == 405
    assert client.get("/offers/1/withdraw").status_code == 405  # outside the admin area
