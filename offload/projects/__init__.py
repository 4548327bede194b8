"""Projects: the work after an award, private to its two sides and admins.

Owns ``Project`` (started by ``start_project`` when ``offers`` accepts an award) and
its lifecycle (``lifecycle``: the state moves and the timeline's ``record_event``),
events posted by either side, and the stalling-project job. The project page's read
model (``page``) gathers what ``conversations``, ``milestones``, ``commissions``,
``reviews`` and the wallet know about a project; ``views`` serves the timeline, the
referral settlement and the conversation's form, and the milestones' own routes live
in ``milestones.views``. Called
by ``offers``, ``commissions``, ``milestones``, ``reviews``, ``cases``, the jobs and
the demo.
"""
