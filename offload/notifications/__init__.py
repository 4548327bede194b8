"""Notifications, preferences and the e-mail outbox; the design note opens models.py.

Services everywhere call ``notify()`` (a notification, and an outbox e-mail when the
member chose e-mail for that kind) or ``queue_email()`` inside their own
transaction; both only write rows. ``deliver_outbox()``, run by the jobs, is the one
place that sends. ``kinds`` is the registry of kinds, ``subjects`` names the gig a
link points into (features register in ``create_app``). A link is a path on this
site built with ``offload.core.links.site_path``. Imports only ``accounts`` and
``core``.
"""
