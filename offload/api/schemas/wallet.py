"""The wallet: balances, the history, deposits and withdrawals, and their request bodies.

Amounts are integer minor units of ``currency`` (cents), as everywhere in the API.
"""

from __future__ import annotations

from flask import current_app
from marshmallow import fields, validate

from offload.core.links import external_url, path_maker
from offload.wallet.models import DepositState, WithdrawalState
from offload.wallet.queries import LineState, LineStep

from .common import Schema, page_schema


class Currency(fields.Field):
    """The site's currency (ISO 4217), which every amount of the wallet is in."""

    def __init__(self, **kwargs) -> None:
        super().__init__(dump_only=True, required=True, metadata={
            "type": "string", "description": "ISO 4217 code of every amount here"}, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs) -> str:
        return current_app.config["CURRENCY"]

    def get_value(self, obj, attr, accessor=None, default=None):
        return None  # not read from the object: the site's own


PAGE_URL = {"type": "string", "format": "uri", "description": "Its page on the site"}


class WalletSchema(Schema):
    """The member's balances as the wallet page shows them (``wallet.queries.WalletSummary``)."""

    available_minor = fields.Integer(required=True, attribute="available", metadata={
        "description": "What the member can spend or withdraw now"})
    held_minor = fields.Integer(required=True, attribute="held", metadata={
        "description": "Reserved for withdrawals and postpaid fees not yet settled"})
    total_minor = fields.Integer(required=True, attribute="total", metadata={
        "description": "The balance: available and held together"})
    owed_minor = fields.Integer(required=True, attribute="owed", metadata={
        "description": "What a deposit taken back (disputed or refunded) left the member "
                       "owing: no withdrawals until it is paid; deposits pay it first"})
    currency = Currency()


class HistoryLineSchema(Schema):
    """A line of the wallet's statement (``wallet.queries.HistoryLine``): one transfer on
    the wallet, with the balances just after it."""

    transfer_id = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    kind = fields.String(required=True, metadata={
        "description": "The transfer's kind: deposit, withdrawal, prepaid_click, escrow, ..."})
    step = fields.String(required=True, validate=validate.OneOf([s.value for s in LineStep]),
                         metadata={"description": "posted at once; a hold (reservation); "
                                                  "a hold's charge or release"})
    label = fields.String(required=True, metadata={"description": "What it was, in words"})
    amount_minor = fields.Integer(required=True, metadata={
        "description": "Signed from the member's side: positive came in (or back)"})
    state = fields.String(required=True, validate=validate.OneOf([s.value for s in LineState]))
    reserved_minor = fields.Integer(allow_none=True, required=True, metadata={
        "description": "For a hold and its charge or release: the amount held"})
    settled_at = fields.DateTime(allow_none=True, required=True, metadata={
        "description": "For a hold: when it was charged or released"})
    memo = fields.String(required=True)
    available_after_minor = fields.Integer(required=True, attribute="available_after")
    held_after_minor = fields.Integer(required=True, attribute="held_after")
    cause_type = fields.String(allow_none=True, required=True, metadata={
        "description": "What the money moved for: deposit, withdrawal, offer, milestone, ..."})
    cause_id = fields.Integer(allow_none=True, required=True)
    cause_html_url = fields.Method("_cause_url", allow_none=True, required=True, metadata={
        "type": ["string", "null"], "format": "uri",
        "description": "The cause's page on the site, if it has one"})

    def _cause_url(self, line) -> str | None:
        # as the wallet page links it (its endpoints are the history's table, CAUSE_PAGES)
        link = line.cause_link
        if link is None:
            return None
        return current_app.config["CANONICAL_URL"].rstrip("/") + path_maker(*link)(line.cause_id)


HistoryPageSchema = page_schema(HistoryLineSchema, "WalletHistoryPage")


class DepositSchema(Schema):
    """A deposit as its page shows it (``wallet.queries.DepositItem``)."""

    id = fields.Integer(required=True)
    amount_minor = fields.Integer(required=True)
    currency = Currency()
    state = fields.String(required=True, validate=validate.OneOf([s.value for s in DepositState]),
                          metadata={"description": "pending until the provider confirms; "
                                                   "the sandbox completes at once"})
    provider = fields.String(required=True)
    provider_reference = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    completed_at = fields.DateTime(allow_none=True, required=True)
    redirect_url = fields.Method("_redirect_url", allow_none=True, required=True, metadata={
        "type": "string", "format": "uri",
        "description": "Where the member completes the payment (Stripe's checkout page) "
                       "while the deposit is pending; null once it is settled, once the "
                       "member has paid there by a method that clears later (a bank "
                       "debit), and for the sandbox, which needs none. After paying, "
                       "Stripe sends the member to their wallet page"})
    html_url = fields.Method("_html_url", required=True, metadata=PAGE_URL)

    def _html_url(self, deposit) -> str:
        return external_url("wallet.deposit", deposit_id=deposit.id)

    def _redirect_url(self, deposit) -> str | None:
        return deposit.redirect_url if deposit.state == DepositState.PENDING else None


class WithdrawalSchema(Schema):
    """A withdrawal as its page shows it (``wallet.queries.WithdrawalItem``)."""

    id = fields.Integer(required=True)
    amount_minor = fields.Integer(required=True)
    currency = Currency()
    state = fields.String(required=True, validate=validate.OneOf(
        [s.value for s in WithdrawalState]), metadata={
        "description": "requested (the amount is held) until an admin pays it out or "
                       "rejects it; with Stripe, sending while its transfer is made, "
                       "then paid, and returning then returned if the money came back"})
    payout_details = fields.String(required=True)
    created_at = fields.DateTime(required=True)
    decided_at = fields.DateTime(allow_none=True, required=True)
    reason = fields.String(allow_none=True, required=True, metadata={
        "description": "Why it was rejected"})
    html_url = fields.Method("_html_url", required=True, metadata=PAGE_URL)

    def _html_url(self, withdrawal) -> str:
        return external_url("wallet.withdrawal", withdrawal_id=withdrawal.id)


class DepositBody(Schema):
    amount_minor = fields.Integer(required=True, strict=True, metadata={
        "description": "The amount to add, in minor units (1250 is 12.50)"})


class WithdrawalBody(Schema):
    amount_minor = fields.Integer(required=True, strict=True, metadata={
        "description": "The amount to withdraw, in minor units; it is held from the "
                       "available balance until an admin pays it out"})
    payout_details = fields.String(load_default=None, metadata={
        "description": "Where to send it: an IBAN, a PayPal address or similar. Not "
                       "asked for when the site pays out through Stripe: the withdrawal "
                       "then goes to the member's connected payout account"})
