"""Profiles: what members show each other (bio, skills, education, portfolio,
documents, photo, availability), and member search (``search``).

Owns the shared skill list that gigs and ratings refer to. Calls ``core`` (uploads,
images) and ``reviews`` (ratings shown and searched on). Called by ``gigs`` and
``offers`` (skills, names), ``reviews`` and the demo.
"""
