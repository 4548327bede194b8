"""The wallet: a member's balances and history, adding funds, withdrawals.

The money itself lives in the ledger (``offload.ledger``); this package holds the
business rows that explain it (``Deposit``, ``Withdrawal``), the payment-provider
interface, the member's wallet page and the admin area's blueprint (``admin`` in
``admin_views``: the dashboard, revenue, the ledger check, the withdrawal queue).
``checks.py`` verifies that every deposit and withdrawal state matches its transfers
(invariant 10). Admin decisions write to ``moderation``; members are told through
``notifications``. Called by the money forms of ``offers``, ``projects`` and
``milestones`` (amount fields), ``cases``, the money check and the demo.
"""
