"""The admin dashboard's numbers: ``queries.site_numbers`` reads members, gigs,
projects, commissions, milestones and the ledger in one place for ``/admin``.

No views of its own yet: the dashboard page is served by ``wallet.admin_views``
(blueprint ``admin``), and each feature's admin pages live with the feature
(``cases.admin_views``, ``contact.admin_views``, ``invites.admin_views``,
``milestones.admin_views``, ``offers.admin_views``).
"""
