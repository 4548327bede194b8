"""Alert fixtures: the shared ones (tests/support/fixtures.py) are all they need."""
