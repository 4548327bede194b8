"""accounts.standing: the question gigs, offers and invites ask, answered by cases."""

from __future__ import annotations

import pytest

from offload.accounts import standing
from offload.cases import hook


def test_create_app_installs_the_cases_answers():
    assert standing._standing.why_on_the_hook is hook.why_on_the_hook
    assert standing._standing.open_case_subjects is hook.open_case_subjects


def test_uninstalled_it_refuses_to_answer(monkeypatch, make_member):
    monkeypatch.setattr(standing, "_standing", None)
    with pytest.raises(RuntimeError, match="create_app"):
        standing.why_on_the_hook(make_member(), "post gigs")
    with pytest.raises(RuntimeError, match="create_app"):
        standing.open_case_subjects()
