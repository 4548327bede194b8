"""Invites: nobody joins without one, and an inviter answers for whom they invite.

An invite holds only the hash of its random token. Opening the link (GET) changes
nothing; the sign-up form (POST) redeems it with a guarded UPDATE that can succeed
once, so two racing sign-ups create one member. Records are never deleted.

Also owns the invite tree and reparenting (``tree``; the admin's explorer pages are
``offload.admin``'s), which leave a ``moderation`` entry. Calls ``accounts`` (the new
member, the tree's lineage, the standing hook: no invites while on the hook) and
``notifications``. Called by the jobs (expiring invites), ``cases`` (a suspension
revokes the member's pending invites) and the demo.
"""
