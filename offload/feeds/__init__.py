"""Atom feeds for feed readers: a board search, a keyword alert's matches, and the
member's notifications, each at a URL that carries the member's feed token.

Owns ``FeedToken`` (one per member), the feed routes (``/feeds/<token>/...``) and the
buttons that make, replace and revoke the link (on the Settings page, which accounts
renders). The feeds read the board (``gigs.board``), the member's alerts and their
notifications as the pages do, composed in ``page.py``; a feed reader sees what the
member would. Called by the board, alerts, notifications and settings pages, which link
the feeds (``queries.feed_link_of``).

The token is never stored: the row keeps a random ``salt`` and the SHA-256 of the
token, and the token is the HMAC of the member and the salt under ``SECRET_KEY``. So
the pages can show the feed URLs again (a feed reader needs them), while the database
alone gives nobody a working URL. Replacing the link draws a new salt, which ends the
old URLs; revoking deletes the row, and so does a password change, a reset or a
suspension (``accounts.services.revoke_member_tokens`` calls
``services.revoke_member_feed_link``, installed by ``create_app``). After a change of
``SECRET_KEY`` a link can no longer be shown (its URLs still work until replaced or
revoked), so the settings page offers a new one. An unknown or revoked token, and a
suspended member's, answer 404; the token opens feeds only, never a page or the API.
"""
