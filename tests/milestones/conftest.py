"""Milestone fixtures: the shared project fixtures (tests/support/fixtures.py)."""
