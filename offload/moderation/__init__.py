"""The moderation log: every use of admin power, with the admin's written reason.

Services that let an admin act (pay or reject a withdrawal, cancel a gig, suspend a
member, settle a case, resolve a dispute, move a member in the invite tree, answer a
contact message, export a conversation) call ``record_moderation()`` inside their
own transaction, so the entry exists exactly when the action does. Every member can
read the log at ``/moderation`` (``views``). One admin action lives here as well:
resetting a member's two-factor log-in (``account_recovery``), which ``accounts``, below
this package, could not log. Imports ``accounts``, ``notifications`` and ``core``.
"""
