"""Accounts: members, log-in, e-mail confirmation, password reset, sessions.

A member's ``session_token`` is part of the id that Flask-Login keeps in the
session and in the remember cookie; rotating it (log-out, password change or
reset, suspension) ends every session the member has, old cookies included.

Each log-in is also a signed-in device (``devices``: a ``MemberSession`` row whose
secret rides in the session after the token); the member sees them in Settings and
ends one or all others, and the user loader refuses an ended one. ``sign_in`` starts a
browser's session so at the entry points (log-in, its code step, sign-up).

Two-factor log-in (``two_factor``: TOTP and backup codes) is checked after the
password, before the session starts; ``step_up`` asks for a code again at the entry
points (the admin area, large withdrawals).

Owns ``User`` (every feature refers to it), the invite tree's lineage bookkeeping
(``lineage``: branch sizes, the tree lock), the ``admin_required`` decorator and
``flask accounts create-admin``. Calls only ``core`` and ``notifications`` (its mails
go through the outbox). Everything else imports its models.
"""
