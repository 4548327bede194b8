"""The wallet: a member's balances and history, adding funds, withdrawals.

The money itself lives in the ledger (``offload.ledger``); this package holds the
business rows that explain it (``Deposit``, ``Withdrawal``), the payment-provider
interface, the member's wallet page and, until issue 6 moves it, the minimal admin
area (revenue, the ledger check, the withdrawal queue). ``checks.py`` verifies that
every deposit and withdrawal state matches its transfers (invariant 10).
"""
