"""Offers: members' proposals on gigs, their response fees, negotiation and the award.

``models`` (design note there), ``services`` (every change, one transaction each),
``negotiation`` (proposed terms, counters and their answers),
``policies`` and ``queries`` (reads), ``ranking`` (the order offers are placed in),
``checks`` (invariant 10 for offer fees), ``forms`` and ``views``.
"""
