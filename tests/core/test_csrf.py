"""With CSRF protection on (as in production), every POST route refuses a tokenless request."""

import pytest
from flask import url_for

from tests.conftest import PASSWORD, make_app


@pytest.fixture
def csrf_app(app, tmp_path):
    return make_app(tmp_path, WTF_CSRF_ENABLED=True,
                    SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])


def _post_urls(app):
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "POST" in rule.methods:
                values = {arg: 1 if rule._converters[arg].regex == r"\d+" else "x"
                          for arg in rule.arguments}
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
