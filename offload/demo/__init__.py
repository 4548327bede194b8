"""Demo data: ``flask demo seed`` builds a small invite tree of members with profiles,
and open gigs of both kinds with questions and offers for them to click through;
``flask demo generate`` makes bulk data for the benchmarks (``bench/``).

It calls the same services as the web (accounts, invites, profiles, wallet, gigs,
offers, projects, milestones, commissions, alerts), and is idempotent: members and
gigs that exist are left as they are, and no money moves twice. Nothing calls it
but its CLI.
"""
