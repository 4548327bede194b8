"""Dashboard fixtures: the shared gig, offer and project fixtures (tests/support/fixtures.py)."""
