"""The contact page: members and visitors write to the admins, an admin answers.

Owns ``ContactMessage`` and its answer and the public form (``views``); the admins'
queue is a page of ``offload.admin`` calling the services here. Sending notifies
every admin (``contact_message``); answering notifies a member, or mails a visitor
straight through the outbox, and is logged in ``moderation``. Nothing else calls it.
"""
