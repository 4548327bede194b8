"""The messages inbox: every conversation a member is in, across offers and projects.

The conversations themselves are the offers' (``offload.offers.conversations``); this
package only reads them, from each party's ``ConversationRead`` row, with ``gigs``,
``projects`` and ``notifications`` for the inbox and the top bar's unread counts. It
writes nothing and nothing imports it but ``create_app``.
"""
