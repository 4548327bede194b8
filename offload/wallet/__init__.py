"""The wallet: a member's balances and history, adding funds, withdrawals.

The money itself lives in the ledger (``offload.ledger``); this package holds the
business rows that explain it (``Deposit``, ``Withdrawal``), the payment-provider
interface and the member's wallet page (the admin's withdrawal queue is in
``offload.admin``, calling the services here). ``checks.py`` verifies that
every deposit and withdrawal state matches its transfers (invariant 10).
"""
