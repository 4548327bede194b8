"""Demo data: ``flask demo seed`` builds a small invite tree of members with profiles,
and open gigs of both kinds with questions and offers for them to click through.

It uses the same services as the web, and is idempotent: members and gigs that exist
are left as they are, and no money moves twice. Later features extend ``seed_demo``.
"""
