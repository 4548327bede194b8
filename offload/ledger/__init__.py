"""The ledger: the only writer of balances (design: shared/ledger.md).

Double entry on the TigerBeetle model. An account has four counters
(debits/credits × pending/posted); a transfer moves an amount from a debit account
to a credit account and is never updated or deleted. Holds are two-phase: a pending
transfer reserves, and exactly one later transfer posts it (all or part; the rest
returns) or voids it. Every business event is a batch of legs sharing a ``batch_id``,
with a kind, a cause and, for member requests, an idempotency key.

For a credit-normal account (wallets, revenue, escrow):
    balance   = credits_posted - debits_posted
    available = balance - debits_pending
A member's debt account is the one debit-normal account: a deposit taken back that the
wallet didn't cover debits it (into the chargebacks account), repayments credit it, and
what the member owes is debits_posted - credits_posted, never below zero (a check).
The sums of all debits and all credits are equal, posted and pending alike.

Concurrency (both databases): one short transaction per operation that claims the
idempotency key, locks the touched accounts in ascending id order (PostgreSQL) and
changes counters with guarded relative UPDATEs that must change exactly one row.
On SQLite ``BEGIN IMMEDIATE`` serialises writers; on PostgreSQL the outermost call
is retried on 40001/40P01.

The ascending order holds across a whole transaction, not per batch: a transaction
that moves money in several steps (an expiry releasing many holds) first locks every
account it will touch with ``lock_accounts(ids)``. The ledger remembers what the
transaction holds and logs an account locked below one already held (refused with
``LEDGER_STRICT_LOCK_ORDER``, as in the tests).

Imports only ``core`` (and the list of money checks in ``offload.health`` for
``flask ledger check``). Called by every service that moves money (``wallet``,
``offers``, ``milestones``, ``commissions``, ``cases``), their checks and the admin
dashboard.
"""
