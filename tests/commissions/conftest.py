"""Commission fixtures: the shared ones (tests/support/fixtures.py: ``start_project``,
``referrer``, ``performer``, ``fund``, ``withdraw``) are all they need."""
