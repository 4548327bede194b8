"""Profiles: what members show each other (bio, skills, education, portfolio,
documents, photo, availability). Member search ranks by rating, so it lives above
both, in ``reviews.member_search``.

Owns the shared skill list that gigs and ratings refer to. Calls ``core`` (uploads,
images); its views also show ratings from ``reviews``. Called by ``gigs`` and
``offers`` (skills, names), ``reviews`` and the demo.
"""
