"""The landing page, the member dashboard and ``/healthz``.

Reads only (``queries.dashboard_for``): the member's gigs, offers, projects, reviews
and open cases. Nothing imports it but ``create_app``.
"""
