"""Links into the site are built from endpoint names (``offload.core.links``), and every
endpoint named in the code and the e-mail templates exists, so a renamed route fails
here. (That every notification a test writes links to a page is checked in every test:
``tests/support/links.py``.)"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from flask import current_app
from werkzeug.routing import BuildError

from offload.cases.models import CaseEvidence, EvidenceKind
from offload.core.links import external_url, site_path
from tests.support.links import resolves

OFFLOAD = Path(__file__).resolve().parents[2] / "offload"
BUILDERS = {"site_path", "external_url"}
# builds its endpoint from a table, checked below by test_every_evidence_kind_links
TABLE_CALLERS = {"cases/models.py"}
# offers/ is being split; its links are still written out and are converted at merge
# (then this goes, and test_no_link_is_written_out covers offers/ too)
TEMPLATE_CALL = re.compile(r"""external_url\(\s*['"]([\w.]+)['"]""")


def _modules():
    for path in sorted(OFFLOAD.rglob("*.py")):
        yield path.relative_to(OFFLOAD).as_posix(), ast.parse(path.read_text(), str(path))


def _builder_calls():
    """(file, endpoint or None when not a literal) for every site_path/external_url call."""
    for name, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(
                    node.func, "id", getattr(node.func, "attr", None)) in BUILDERS:
                first = node.args[0] if node.args else None
                literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
                yield name, first.value if literal else None


def _endpoints_used() -> list[str]:
    used = {endpoint for _, endpoint in _builder_calls() if endpoint}
    for path in (OFFLOAD / "templates").rglob("*"):
        if path.is_file():
            used.update(TEMPLATE_CALL.findall(path.read_text()))
    return sorted(used)


def test_the_scan_finds_the_builders():
    used = _endpoints_used()
    assert {"projects.show", "gigs.show", "accounts.reset_password",
            "notifications.preferences"} <= set(used)


@pytest.mark.parametrize("endpoint", _endpoints_used())
def test_every_endpoint_named_for_a_link_exists_and_answers_get(endpoint):
    rules = [rule for rule in current_app.url_map.iter_rules() if rule.endpoint == endpoint]
    assert rules, f"no route is named {endpoint!r}"
    assert any("GET" in rule.methods for rule in rules), f"{endpoint} answers no GET"


def test_every_builder_call_names_its_endpoint_literally():
    # a literal endpoint is what lets the test above find it
    hidden = sorted({name for name, endpoint in _builder_calls()
                     if endpoint is None and name not in TABLE_CALLERS
                     and name != "core/links.py"})
    assert not hidden, f"site_path/external_url called with a computed endpoint in {hidden}"


@pytest.mark.parametrize("kind", list(EvidenceKind))
def test_every_evidence_kind_links_to_a_page(kind):
    url = CaseEvidence(kind=kind, target_id=7).url
    assert url.split("#")[0].endswith("/7") and resolves(url)


def test_no_link_is_written_out():
    """No f-string starts with "/" and no ``link=`` is a plain string: links come from
    site_path."""
    written = []
    for name, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr) and node.values and isinstance(
                    node.values[0], ast.Constant) and str(node.values[0].value).startswith("/"):
                written.append(f"{name}:{node.lineno}")
            if isinstance(node, ast.keyword) and node.arg == "link" and isinstance(
                    node.value, ast.Constant) and isinstance(node.value.value, str):
                written.append(f"{name}:{node.value.lineno}")
    assert not written, f"links written out instead of built with site_path: {written}"


def test_site_path_builds_a_path_with_anchor_and_query():
    assert site_path("projects.show", project_id=3, _anchor="timeline") == "/projects/3#timeline"
    assert site_path("gigs.show", gig_id=5, _anchor="question-9") == "/gigs/5#question-9"
    assert site_path("profiles.show", username="ada") == "/members/ada"
    assert site_path("gigs.board", _query="q=rust&kind=task") == "/gigs?q=rust&kind=task"
    assert site_path("gigs.board", _query="") == "/gigs"
    assert site_path("gigs.board", q="a b") == "/gigs?q=a+b"  # unknown values: the query


def test_site_path_ignores_the_canonical_urls_path(app):
    # the notification keeps a path from the site's root; e-mails prefix CANONICAL_URL
    app.config["CANONICAL_URL"] = "https://example.org/offload"
    try:
        assert site_path("projects.show", project_id=3) == "/projects/3"
        assert external_url("projects.show", project_id=3) == \
            "https://example.org/offload/projects/3"
    finally:
        app.config["CANONICAL_URL"] = "https://offload.example"


def test_site_path_works_without_a_request_and_refuses_unknown_endpoints(app):
    with app.app_context():  # as a job or the CLI runs: no request context
        assert site_path("cases.show", case_id=1) == "/cases/1"
        with pytest.raises(BuildError):
            site_path("projects.nowhere", project_id=1)
        with pytest.raises(BuildError):
            site_path("projects.show")  # a value missing


@pytest.mark.parametrize("link, ok", [
    ("/projects/3#timeline", True), ("/gigs?q=rust", True), ("/members/ada", True),
    ("/projects/nowhere", False), ("/milestones/disputes/1/reply", False)])
def test_resolves_matches_get_routes_only(link, ok):
    assert resolves(link) is ok


# --- path_maker: many links of one route, url_for once -------------------------------------

def test_path_maker_builds_what_url_for_builds(app):
    from flask import url_for

    from offload.core.links import path_maker

    with app.test_request_context():
        gig_path = path_maker("gigs.show", "gig_id")
        for gig_id in (1, 42, 2_147_483_647):
            assert gig_path(gig_id) == url_for("gigs.show", gig_id=gig_id)


def test_path_maker_refuses_what_is_not_an_id(app):
    from offload.core.links import path_maker

    with app.test_request_context():
        gig_path = path_maker("gigs.show", "gig_id")
        with pytest.raises(ValueError):
            gig_path("1/../../admin")


def test_an_external_url_takes_a_query_only_when_there_is_one(app, monkeypatch):
    from offload.core.links import external_url

    monkeypatch.setitem(app.config, "CANONICAL_URL", "https://offload.example")
    assert external_url("gigs.board") == "https://offload.example/gigs"
    assert external_url("gigs.board", _query="") == "https://offload.example/gigs"
    assert external_url("gigs.board", _query="q=cobol") == "https://offload.example/gigs?q=cobol"


# --- fixed_path: the layout's links, built once ---------------------------------------------

def test_fixed_path_is_url_for_kept_per_script_root(app):
    from flask import url_for

    from offload.core.links import fixed_path

    for root in ("", "/offload"):
        with app.test_request_context("/", base_url=f"http://localhost{root}/"):
            for endpoint, values in (("pages.dashboard", {}), ("wallet.index", {}),
                                     ("static", {"filename": "site.css"})):
                assert fixed_path(endpoint, **values) == url_for(endpoint, **values)
                assert fixed_path(endpoint, **values).startswith(root + "/")
