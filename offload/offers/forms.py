"""Forms of the offer pages. They check shape (present, an amount, a whole number of
days, not too long); the services check the rules (who, when, fees, portfolio).

The offer form is a money form (it can charge a fee): it carries a one-time key, so
a double click or a retried POST sends one offer and charges once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from flask import current_app
from wtforms import (
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import InputRequired, NumberRange, Optional

from offload.core.forms import MoneyField, OffloadForm, QueryForm, at_most
from offload.core.money import format_money
from offload.wallet.forms import MoneyForm

from .models import (
    COVER_LETTER_MAX,
    DECLINE_REASON_MAX,
    NOTE_MAX,
    PORTFOLIO_MAX,
    FeeKind,
    OfferState,
)


def _days_field() -> IntegerField:
    return IntegerField("Days to deliver", validators=[
        InputRequired("Enter how many days you need."),
        NumberRange(min=1, message="Enter at least 1 day.")],
        description="Counted from the day the award is accepted.",
        render_kw={"inputmode": "numeric", "min": 1})


def _price_field(label: str = "Your price") -> MoneyField:
    return MoneyField(label, required="Enter your price.",
                      description="For the whole job, for example 450 or 450.50.")


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class OfferForm(MoneyForm):
    field_prefix = "offer"
    price = _price_field()
    days_to_deliver = _days_field()
    cover_letter = TextAreaField("Cover letter", validators=[
        InputRequired("Tell the poster why you are the one for this."),
        at_most(COVER_LETTER_MAX, "The cover letter")], render_kw={"rows": 8})
    # task gigs only (``set_choices`` removes it on referral gigs)
    fee_kind = RadioField("Response fee", validators=[
        InputRequired("Choose a prepaid or a postpaid click.")], validate_choice=False)
    portfolio_items = CheckboxesField("Portfolio items to show", coerce=int,
                                      validators=[Optional()], validate_choice=False)

    def set_choices(self, *, is_task: bool, portfolio: Callable[[], Iterable]) -> None:
        """Fee choices with the configured amounts (task gigs only) and the member's work.

        ``portfolio`` is called when the choices are first read, that is when the form is
        shown: the items are not choices it validates (the service checks them), so an
        offer that is sent never reads them.
        """
        if is_task:
            currency = current_app.config["CURRENCY"]
            prepaid = format_money(current_app.config["PREPAID_CLICK_FEE_MINOR"], currency)
            postpaid = format_money(current_app.config["POSTPAID_CLICK_FEE_MINOR"], currency)
            self.fee_kind.choices = [
                SelectChoice(FeeKind.PREPAID.value, f"Prepaid click: {prepaid}, charged now "
                                                    "and never returned"),
                SelectChoice(FeeKind.POSTPAID.value,
                             f"Postpaid click: {postpaid}, held now and charged only if you "
                             "are chosen and accept")]
        else:
            del self.fee_kind
        self.portfolio_items.choices = lambda: [SelectChoice(item.id, item.title)
                                                for item in portfolio()]
        self.portfolio_items.description = f"Up to {PORTFOLIO_MAX}."

    def terms(self) -> dict:
        return {"price_minor": self.price.minor, "days_to_deliver": self.days_to_deliver.data,
                "cover_letter": self.cover_letter.data,
                "fee_kind": self.fee_kind.data if "fee_kind" in self else None,
                "portfolio_item_ids": self.portfolio_items.data or [],
                "idempotency_key": self.idempotency_key.data}


class ProposalForm(OffloadForm):
    price = _price_field("Price")
    days_to_deliver = _days_field()
    note = TextAreaField("Note (optional)", validators=[at_most(NOTE_MAX, "The note")],
                         render_kw={"rows": 2})

    def terms(self) -> dict:
        return {"price_minor": self.price.minor, "days_to_deliver": self.days_to_deliver.data,
                "note": self.note.data or ""}


class DeclineForm(OffloadForm):
    reason = StringField("Reason (optional)", validators=[
        at_most(DECLINE_REASON_MAX, "The reason")],
        description="The member who made the offer sees it.")


class MyOffersFilterForm(QueryForm):
    state = SelectField("State", choices=[SelectChoice("", "Any state")]
                        + [SelectChoice(s.value, s.label) for s in OfferState],
                        validate_choice=False, validators=[Optional()])
