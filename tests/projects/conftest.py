"""Project fixtures: ``start_project``, ``referrer`` and ``performer`` are shared
(tests/support/fixtures.py); importable here for conftests that import them from here."""

from tests.support.fixtures import performer, referrer, start_project  # noqa: F401
