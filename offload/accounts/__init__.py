"""Accounts: members, log-in, e-mail confirmation, password reset, sessions.

A member's ``session_token`` is part of the id that Flask-Login keeps in the
session and in the remember cookie; rotating it (log-out, password change or
reset, suspension) ends every session the member has, old cookies included.

Owns ``User`` (every feature refers to it), the invite tree's lineage bookkeeping
(``lineage``: branch sizes, the tree lock), the ``admin_required`` decorator and
``flask accounts create-admin``. Calls only ``core`` and ``notifications`` (its mails
go through the outbox). Everything else imports its models.
"""
