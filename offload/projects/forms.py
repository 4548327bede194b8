"""The timeline form: what happened and a note."""

from __future__ import annotations

from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from offload.commissions.models import INVOICE_REASON_MAX
from offload.core.forms import MoneyField, OffloadForm, QueryForm
from offload.wallet.forms import MoneyForm

from .models import EVENT_NOTE_MAX, POSTED_KINDS, ProjectState


class EventForm(OffloadForm):
    kind = SelectField("What happened", choices=[SelectChoice(k.value, k.label)
                                                 for k in POSTED_KINDS])
    note = TextAreaField("Note", validators=[
        InputRequired("Write a note: what happened, what comes next."),
        Length(max=EVENT_NOTE_MAX, message=f"The note can be at most {EVENT_NOTE_MAX:,} "
                                           "characters.")], render_kw={"rows": 3},
        description="Both sides and admins see it on the timeline; it can't be edited.")


class CompleteReferralForm(MoneyForm):
    field_prefix = "complete"
    invoiced = MoneyField("Amount invoiced to the client",
                          required="Enter the amount you invoiced.",
                          description="The whole amount you billed the client, for example "
                                      "4800.")
    reason = TextAreaField("If it is under the agreed price, why", validators=[
        Optional(), Length(max=INVOICE_REASON_MAX, message=f"Keep it under "
                                                           f"{INVOICE_REASON_MAX:,} characters.")],
        description="Needed only under the agreed price. The referrer reads it and may "
                    "accept the amount or contest it.", render_kw={"rows": 3})


class ContestInvoiceForm(OffloadForm):
    statement = TextAreaField("Why you contest it", validators=[
        InputRequired("Say why you contest the amount."),
        Length(max=INVOICE_REASON_MAX, message=f"Keep it under {INVOICE_REASON_MAX:,} "
                                               "characters.")],
        description="An admin reads it beside the performer's reason and both amounts.",
        render_kw={"rows": 3})


class PayCommissionForm(MoneyForm):
    field_prefix = "pay"


class MyProjectsFilterForm(QueryForm):
    state = SelectField("State", choices=[SelectChoice("", "Any state")]
                        + [SelectChoice(s.value, s.value.capitalize()) for s in ProjectState],
                        validate_choice=False, validators=[Optional()])
