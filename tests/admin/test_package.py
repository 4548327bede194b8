"""The admin area's shape: one blueprint serves every page under /admin, and no feature
imports the admin package (it calls the features, never the other way round)."""

from __future__ import annotations

import ast
from pathlib import Path

import offload

PACKAGE = Path(offload.__file__).resolve().parent


def test_the_admin_blueprint_serves_exactly_the_admin_urls(app):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    under_admin = {r.endpoint for r in rules
                   if r.rule == "/admin" or r.rule.startswith("/admin/")}
    admin_endpoints = {r.endpoint for r in rules if r.endpoint.startswith("admin.")}
    assert under_admin == admin_endpoints
    assert len(admin_endpoints) >= 20


def test_no_feature_imports_the_admin_package():
    importers = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "admin" or relative == Path("__init__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "offload.admin" or n.startswith("offload.admin.") for n in names):
                importers.append(str(relative))
    assert importers == []
