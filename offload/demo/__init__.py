"""Demo data: ``flask demo seed`` builds a small invite tree of members with profiles.

It uses the same services as the web, and is idempotent: members that exist are left
as they are. Later features extend ``seed_demo``.
"""
