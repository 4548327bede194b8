"""Keyword alerts: a board search saved by a member, mailed when new gigs match.

Owns ``Alert`` (the board's query string, at once or as a daily digest) and
``AlertHit`` (a gig already sent, so none is sent twice), the alerts page and the
one-click stop link (a signed token, also the mail's List-Unsubscribe). Calls
``gigs`` (the board's own matching, ``gigs.board.alert_matches``) and
``notifications`` (``keyword_alert``). Called by the jobs (``send_instant_alerts``,
``send_daily_digests``) and the demo.
"""
