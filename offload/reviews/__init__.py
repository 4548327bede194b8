"""Reviews after a project, and the ratings they make.

Double-blind: each side's review is published when both are in or the window
closes (``publish_due_reviews``, a job); the reviewed member may reply once. Owns
the Bayesian ratings per member and per skill, and ``ranking`` (offers ordered by
the offerer's rating). Calls ``projects``, ``gigs``, ``profiles`` and
``notifications``. Called by the project page, ``offers`` (ranking), ``profiles``
(ratings), ``pages`` and the jobs.
"""
