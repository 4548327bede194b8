"""Payments: the real payment provider's side of the wallet (Stripe).

The wallet keeps the money (deposits, withdrawals, the ledger's transfers); this
package is where the provider's word reaches it: the signed webhook (``views``), each
event recorded once and handed to the handler for its type (``services.apply_event``,
with the handlers in ``deposits``, ``chargebacks`` (a disputed or refunded deposit
is taken back through the wallet's services, and a case opens through ``cases`` when
the member is left owing) and ``payouts``). Network calls to Stripe are made by
``wallet.providers`` before any transaction opens, never inside one. And where the
ledger is checked against Stripe: ``flask payments reconcile`` (``cli``) compares
Stripe's balance transactions with the ledger's Stripe movements (``reconcile``, its
matching keys described there; one source of movements per kind in ``queries``).
"""
