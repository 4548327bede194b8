"""Milestones: how a task project pays, through escrow. ``models`` (design note there),
``services``, ``policies``, ``checks`` (invariants 9 and 10), ``forms``."""
