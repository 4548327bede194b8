"""Inbox fixtures: the shared gig and offer factories (tests/support/fixtures.py)."""
