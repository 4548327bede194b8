"""The contact page: members and visitors write to the admins, an admin answers.

Owns ``ContactMessage`` and its answer, the public form (``views``) and the admins'
queue (``admin_views``). Sending notifies every admin (``contact_message``);
answering notifies a member, or mails a visitor straight through the outbox, and is
logged in ``moderation``. Nothing else calls it.
"""
