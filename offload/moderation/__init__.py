"""The moderation log: every use of admin power, with the admin's written reason.

Services that let an admin act (pay or reject a withdrawal, later suspend a member,
settle a case) call ``record_moderation()`` inside their own transaction, so the
entry exists exactly when the action does. Issue 6 adds the public page.
"""
