"""The OpenAPI document describes every API route, is a well-formed OpenAPI 3.1
document (a structural check: flask-smorest brings no validator), and the docs page
loads its files from this site, under the site's CSP."""

from __future__ import annotations

import re
from html.parser import HTMLParser

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _document(client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def _refs(node, found: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                found.add(value)
            else:
                _refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _refs(value, found)
    return found


def test_the_document_is_openapi_3_1_and_every_reference_resolves(client):
    doc = _document(client)
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] == "Offload API" and doc["info"]["version"]
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer",
        "description": "A personal access token, made in Settings → API tokens"}
    for ref in _refs(doc, set()):
        assert ref.startswith("#/"), ref
        node = doc
        for part in ref[2:].split("/"):
            assert part in node, f"{ref} does not resolve"
            node = node[part]
    for path, item in doc["paths"].items():
        assert path.startswith("/api/v1/"), path
        for name in re.findall(r"{(\w+)}", path):
            declared = item.get("parameters", []) + [
                p for op in item.values() if isinstance(op, dict)
                for p in op.get("parameters", [])]
            assert any(p["name"] == name and p["in"] == "path" for p in declared), path
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            assert operation["responses"], (path, method)
            assert all(re.fullmatch(r"[1-5]\d\d|default", code)
                       for code in operation["responses"]), (path, method)
            assert operation["security"] == [{"bearerAuth": []}], (path, method)
            assert operation["summary"], (path, method)


def test_the_document_covers_every_api_route(app, client):
    doc = _document(client)
    documented = {(re.sub(r"{(\w+)}", r"<\1>", path), method.upper())
                  for path, item in doc["paths"].items()
                  for method in item if method in HTTP_METHODS}
    public = {"api.openapi_json", "api.docs", "api.static"}
    routes = {(re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule), method)
              for rule in app.url_map.iter_rules()
              if rule.endpoint.startswith("api.") and rule.endpoint not in public
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routes
    assert len(routes) >= 5


def test_errors_are_documented_as_problems(client):
    doc = _document(client)
    problem = doc["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    me = doc["paths"]["/api/v1/me"]["get"]["responses"]
    assert set(me["401"]["content"]) == {"application/problem+json"}
    gigs = doc["paths"]["/api/v1/gigs"]["get"]["responses"]
    assert "Link" in gigs["200"]["headers"]
    nullable = doc["components"]["schemas"]["Gig"]["properties"]["published_at"]
    assert nullable["type"] == ["string", "null"]  # 3.1's way, not 3.0's nullable


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str | None] = []
        self.styles: list[str] = []
        self.inline_style = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self.scripts.append(a.get("src"))
        if tag == "link" and a.get("rel") == "stylesheet":
            self.styles.append(a["href"])
        if tag == "style" or "style" in a:
            self.inline_style = True


def test_the_docs_page_loads_its_own_files_under_the_csp(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    page = _Assets()
    page.feed(response.get_data(as_text=True))
    assert None not in page.scripts, "no inline script: the CSP forbids it"
    assert not page.inline_style
    assert page.scripts == ["/api/v1/static/swagger-ui/swagger-ui-bundle.js",
                            "/api/v1/static/docs.js"]
    for url in page.scripts + page.styles:
        assert url.startswith("/api/v1/static/"), url  # this site, no CDN
        asset = client.get(url)
        assert asset.status_code == 200 and asset.content_length > 100, url
        asset.close()
    assert 'data-spec-url="/api/v1/openapi.json"' in response.get_data(as_text=True)
