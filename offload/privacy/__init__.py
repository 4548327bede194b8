"""Privacy: a member deleting their account.

Deletion anonymises rather than removes: the ``users`` row stays, because the ledger,
messages kept as evidence, reviews and the invite tree point at it, but everything
that says who the member was goes (name, e-mail, profile, files, credentials), and it
never logs in again (``accounts``: ``deleted_at``). What they had open closes in the
same transaction, as a suspension closes it (``cases.suspension``'s gig locks, and the
offers', gigs' and invites' own services), so nobody is left dealing with a member who
can't log in. It is refused while the account is still part of something unsettled:
money in the wallet or held, an open project, a commission due either way or its
invoiced amount under review, a debt (``policies.deletion_blockers``).

Owns no table. Calls ``accounts``, ``profiles``, ``feeds``, ``webhooks``, ``alerts``,
``invites``, ``offers``, ``gigs``, ``cases``, ``notifications`` and ``moderation`` to
close, erase and record; reads ``wallet``, ``projects`` and ``commissions``. Called by
its settings page.
"""
