"""Accounts: members, log-in, e-mail confirmation, password reset, sessions.

A member's ``session_token`` is part of the id that Flask-Login keeps in the
session and in the remember cookie; rotating it (log-out, password change or
reset, suspension) ends every session the member has, old cookies included.

Two-factor log-in (``two_factor``: TOTP and backup codes) is checked after the
password, before the session starts; ``step_up`` asks for a code again at the entry
points (the admin area, large withdrawals).

Owns ``User`` (every feature refers to it), the invite tree's lineage bookkeeping
(``lineage``: branch sizes, the tree lock), the ``admin_required`` decorator and
``flask accounts create-admin``. Calls only ``core`` and ``notifications`` (its mails
go through the outbox). Everything else imports its models.
"""
