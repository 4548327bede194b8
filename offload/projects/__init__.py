"""Projects: the work after an award, private to its two sides and admins.

Owns ``Project`` (started by ``start_project`` when ``offers`` accepts an award) and
its lifecycle (``lifecycle``: the state moves and the timeline's ``record_event``),
events posted by either side, and the stalling-project job. The project page
(``views``) gathers what happens on a project and calls the service that owns each:
``commissions`` (referral settlement), ``milestones`` (task escrow, price, disputes),
``reviews``, ``cases`` (contesting an invoice), and the offer's conversation. Called
by ``offers``, ``commissions``, ``milestones``, ``reviews``, ``cases``, the jobs and
the demo.
"""
