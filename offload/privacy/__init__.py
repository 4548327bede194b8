"""Privacy: a member deleting their account.

Deletion anonymises rather than removes: the ``users`` row stays, because the ledger,
messages kept as evidence, reviews and the invite tree point at it, but everything
that says who the member was goes (name, e-mail, profile, files, credentials), and it
never logs in again (``accounts``: ``deleted_at``). It is refused while the account is
still part of something unsettled: money in the wallet or held, an open project, a
commission due either way, a debt (``policies.deletion_blockers``).

Owns no table. Calls ``accounts``, ``profiles``, ``feeds``, ``webhooks``, ``alerts``,
``invites``, ``notifications`` and ``moderation`` to erase and record; reads
``wallet``, ``projects`` and ``commissions``. Called by its settings page.
"""
