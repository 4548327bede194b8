"""With CSRF protection on (as in production), every POST route refuses a tokenless request."""

import pytest
from flask import url_for

from tests.support.app import make_app
from tests.support.factories import PASSWORD


@pytest.fixture
def csrf_app(app, tmp_path):
    return make_app(tmp_path, WTF_CSRF_ENABLED=True,
                    SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])


# Routes that take a POST without the form token, and why that is safe:
# the one-click stop link of alert mail (RFC 8058: mail clients POST it with no
# token; the signed token in its URL is the proof, and it can only stop an alert);
# the JSON API (the ``api`` blueprint), which no cookie authenticates: only a bearer
# token, which a page elsewhere cannot make a browser send (without it, a 401);
# Stripe's two webhooks (our account's, and the Connect one for events on connected
# accounts), which Stripe calls with no session: its signature under each endpoint's
# own secret is the proof (tests/payments/), and an unsigned POST is a 400.
EXEMPT = {"alerts.stop_submit", "payments.stripe_webhook", "payments.stripe_connect_webhook"}
EXEMPT_BLUEPRINTS = {"api"}


def _sample(converter) -> object:
    if converter.regex == r"\d+":
        return 1
    return min(getattr(converter, "items", None) or ["x"])  # ``any(a, b)``: one of its choices


def _post_urls(app):
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if ("POST" in rule.methods and rule.endpoint not in EXEMPT
                    and rule.endpoint.partition(".")[0] not in EXEMPT_BLUEPRINTS):
                values = {arg: _sample(rule._converters[arg]) for arg in rule.arguments}
                urls.append(url_for(rule.endpoint, **values))
    return urls


def test_every_post_route_needs_the_token(csrf_app, make_member):
    member = make_member("alice")
    client = csrf_app.test_client()
    urls = _post_urls(csrf_app)
    assert len(urls) > 10
    for url in urls:
        response = client.post(url, data={"login": member.username, "password": PASSWORD})
        assert response.status_code == 400, url
        assert "The form expired" in response.get_data(as_text=True), url


def test_a_form_with_its_token_is_accepted(csrf_app, make_member):
    import re

    make_member("alice")
    client = csrf_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"login": "alice", "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302


def test_only_the_listed_routes_are_exempt(csrf_app):
    from offload.core.extensions import csrf

    exempt = {name for name in csrf._exempt_views}
    assert exempt == {"offload.alerts.views.stop_submit",
                      "offload.payments.views.stripe_webhook",
                      "offload.payments.views.stripe_connect_webhook"}
    assert {bp.name for bp in csrf._exempt_blueprints} == EXEMPT_BLUEPRINTS


def test_the_one_click_stop_needs_a_valid_signed_token(csrf_app):
    response = csrf_app.test_client().post("/alerts/stop/forged.token",
                                           data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 404
    assert "doesn't work any more" in response.get_data(as_text=True)
