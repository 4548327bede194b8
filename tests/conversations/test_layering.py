"""Conversations sit below offers and projects: offers' and projects' pages call it, so
apart from its entry points (views) it reads only their models (who the parties of a
conversation are), never their services, policies or queries, and nothing of projects.
(import-linter's contracts say the same for every package; this is the rule of the move.)"""

from __future__ import annotations

import ast
from pathlib import Path

import offload.conversations

PACKAGE = Path(offload.conversations.__file__).parent
ENTRY_POINTS = {"views.py"}
ALLOWED_ABOVE = {"offload.offers.models"}
ABOVE = ("offload.offers", "offload.projects", "offload.milestones")


def imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_below_offers_and_projects_but_for_offers_models():
    reaching_up = {
        (path.name, name)
        for path in PACKAGE.glob("*.py") if path.name not in ENTRY_POINTS
        for name in imports_of(path)
        if name.startswith(ABOVE) and name not in ALLOWED_ABOVE}
    assert reaching_up == set()
