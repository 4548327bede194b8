"""Milestones: how a task project pays, through escrow.

``models`` (design note there), ``services`` (add, fund, deliver, release, revise,
refund, cancel, complete), ``price`` (a lower price one side proposes and the other
accepts), ``disputes`` (opened by a party, resolved by an admin by release, refund or
split), ``policies``, ``queries``, ``checks`` (invariants 9 and 10), ``forms``, and
``admin_views`` (the disputes queue). Money moves through the ``ledger`` and
``wallet``; the project's state and timeline through ``projects``; admin decisions
write to ``moderation``; parties are told through ``notifications``. Called by the
project page's forms (``projects.views``), ``cases``, the admin dashboard, the money
check (``offload.health``) and the demo.
"""
