"""Conversations: the messages between the two sides of an offer, before the award and
on the project it became; their files, each side's read mark, the inbox and the top
bar's unread count, and the admin's export as evidence.

``models`` (design note there), ``services`` (sending, marking read; one transaction
each), ``export`` (the admin's export), ``policies`` and ``queries`` (reads), ``forms``
and ``views`` (everything under ``/conversations``: an offer's messages at
``/conversations/<offer id>/messages``, files under ``/conversations/files``, the
inbox at ``/conversations``; the old GET addresses redirect there).

Offers and projects call this package (their pages show the conversation, the project
page writes through its own route); it calls neither's services, policies or queries.
It reads offers' and gigs' models, as authorization needs: a conversation is an offer's,
its parties the offerer and the gig's poster. Where an accepted offer's conversation goes
on (the project) is handed in by ``create_app`` (``queries.continue_on_projects``).
"""
