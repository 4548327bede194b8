"""Invites: nobody joins without one, and an inviter answers for whom they invite.

An invite holds only the hash of its random token. Opening the link (GET) changes
nothing; the sign-up form (POST) redeems it with a guarded UPDATE that can succeed
once, so two racing sign-ups create one member. Records are never deleted.
"""
