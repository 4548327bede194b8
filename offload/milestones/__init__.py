"""Milestones: how a task project pays, through escrow.

``models`` (design note there), ``services`` (add, fund, deliver, release, revise,
refund, cancel, complete), ``price`` (a lower price one side proposes and the other
accepts), ``disputes`` (opened by a party, resolved by an admin by release, refund or
split), ``policies``, ``queries``, ``checks`` (invariants 9 and 10), ``forms``, and
``views`` (the milestone, dispute and price routes under ``/milestones``, ``/disputes``
and ``/projects/<id>/price``, answering with the project page, ``projects.page``).
Money moves through the ``ledger`` and ``wallet``; the project's state and timeline
through ``projects``; admin decisions write to ``moderation``; parties are told
through ``notifications``. Called by ``cases``, the admin's disputes queue
(``offload.admin``), the money check (``offload.health``) and the demo.
"""
