"""Wallet checks: each withdrawal's state matches its hold (placeholder until written)."""

WALLET_CHECKS = ()
