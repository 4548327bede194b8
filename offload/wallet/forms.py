"""Wallet and admin money forms: they check shape; the services check the rules.

Amounts are typed as text ("12.50") and parsed to integer minor units here, at the
boundary. Every money form carries a hidden one-time key: fresh on each page view,
kept when the form comes back with an error, so a retried POST has one effect.
"""

from __future__ import annotations

from wtforms import HiddenField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from offload.core.forms import MoneyField, OffloadForm
from offload.ledger.idempotency import new_idempotency_key

from .models import PAYOUT_DETAILS_MAX
from .services import DECISION_REASON_MAX


class MoneyForm(OffloadForm):
    """A money form with its one-time key; ``Form(formdata=None)`` is a blank one.

    Each form has its own field prefix, so two money forms on one page never read
    each other's fields.
    """

    field_prefix = "money"
    idempotency_key = HiddenField()  # a missing or bad key is refused by the service

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", self.field_prefix)
        blank = "formdata" in kwargs and kwargs["formdata"] is None
        super().__init__(*args, **kwargs)
        if blank or not self.is_submitted():
            self.idempotency_key.data = new_idempotency_key()


class DepositForm(MoneyForm):
    field_prefix = "deposit"
    amount = MoneyField("Amount to add", description="For example 25 or 12.50.")


class WithdrawalForm(MoneyForm):
    field_prefix = "withdrawal"
    amount = MoneyField("Amount to withdraw", minimum="MIN_WITHDRAWAL_MINOR",
                        below_minimum="The smallest amount you can withdraw is {minimum}.",
                        description="It is held from your available balance until an admin "
                                    "pays it out.")
    payout_details = StringField(
        "Where to send it", validators=[DataRequired("Say where we should send the money."),
                                        Length(max=PAYOUT_DETAILS_MAX)],
        description="An IBAN, a PayPal address or similar. Only you and the admins see it.",
        render_kw={"autocomplete": "off", "maxlength": PAYOUT_DETAILS_MAX})


class PayoutAccountWithdrawalForm(WithdrawalForm):
    """With Stripe: the money goes to the member's connected payout account, so there
    is nothing to type about where."""

    payout_details = None


class DecisionForm(OffloadForm):
    """An admin's decision on one withdrawal: a reason and the admin's password again.

    Several are on one page, so each is built with ``prefix=f"{action}-{withdrawal.id}"``.
    """

    reason = TextAreaField("Reason", validators=[DataRequired("Write the reason."),
                                                 Length(max=DECISION_REASON_MAX)],
                           render_kw={"rows": 2})
    password = PasswordField("Your password",
                             validators=[DataRequired("Enter your password to confirm.")],
                             render_kw={"autocomplete": "current-password"})
