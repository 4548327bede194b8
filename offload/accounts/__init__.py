"""Accounts: members, log-in, e-mail confirmation, password reset, sessions.

A member's ``session_token`` is part of the id that Flask-Login keeps in the
session and in the remember cookie; rotating it (log-out, password change or
reset, suspension) ends every session the member has, old cookies included.
"""
