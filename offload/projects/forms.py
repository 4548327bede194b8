"""The project page's forms: the timeline's, completion and commission, My projects' filter,
and ``ProjectForms``, every form the page shows."""

from __future__ import annotations

from functools import cached_property

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, TextAreaField
from wtforms.validators import Optional

from offload.commissions.models import INVOICE_REASON_MAX
from offload.conversations.forms import MessageForm
from offload.core.forms import (
    ButtonForm,
    MoneyField,
    OffloadForm,
    QueryForm,
    at_most,
    fresh_fields_key,
    text_area,
)
from offload.milestones.forms import (
    DeliveryForm,
    FundForm,
    MilestoneForm,
    NoteForm,
    PriceAnswerForm,
    PriceProposalForm,
    StatementForm,
)
from offload.reviews.forms import ReviewForm
from offload.wallet.forms import MoneyForm

from .models import EVENT_FILES_MAX, EVENT_NOTE_MAX, POSTED_KINDS, ProjectState


class EventForm(OffloadForm):
    kind = SelectField("What happened", choices=[SelectChoice(k.value, k.label)
                                                 for k in POSTED_KINDS])
    note = text_area("Note", required="Write a note: what happened, what comes next.",
                     limit=EVENT_NOTE_MAX, rows=3, limit_label="The note",
                     description="Both sides and admins see it on the timeline; it can't be "
                                 "edited.")


class CompleteReferralForm(MoneyForm):
    field_prefix = "complete"
    invoiced = MoneyField("Amount invoiced to the client",
                          required="Enter the amount you invoiced.",
                          description="The whole amount you billed the client, for example "
                                      "4800.")
    reason = TextAreaField("If it is under the agreed price, why", validators=[
        Optional(), at_most(INVOICE_REASON_MAX)],
        description="Needed only under the agreed price. The referrer reads it and may "
                    "accept the amount or contest it.", render_kw={"rows": 3})


class ContestInvoiceForm(OffloadForm):
    statement = text_area(
        "Why you contest it", required="Say why you contest the amount.",
        limit=INVOICE_REASON_MAX, rows=3,
        description="An admin reads it beside the performer's reason and both amounts.")


class PayCommissionForm(MoneyForm):
    field_prefix = "pay"


class MyProjectsFilterForm(QueryForm):
    state = SelectField("State", choices=[SelectChoice("", "Any state")]
                        + [SelectChoice(s.value, s.value.capitalize()) for s in ProjectState],
                        validate_choice=False, validators=[Optional()])


class ProjectForms:
    """The project page's forms: fresh ones, but the one just submitted (``refused``),
    which keeps what was typed and its errors. The page says at the top why it was
    refused, since after a lost race its form may no longer be on the page."""

    files_max = EVENT_FILES_MAX  # a delivery's

    def __init__(self, refused: FlaskForm | None = None) -> None:
        self.refused = refused

    @property
    def in_conversation(self) -> bool:
        """The refused form is the conversation's, which says why in place while its form
        is shown (conversations/_conversation.html)."""
        return isinstance(self.refused, MessageForm)

    @property
    def status(self) -> int:
        """422 when the submitted form was refused (its shape or the service), else 200."""
        r = self.refused
        return 422 if r is not None and (r.errors or r.form_errors) else 200

    def fresh_key(self, form: FlaskForm) -> str | None:
        """The fragment key of a fresh form's fields (``_fields_once.html``); None for the
        form just submitted, shown with what was typed."""
        return None if form is self.refused else fresh_fields_key(form)

    def _form(self, cls: type[FlaskForm], prefix: str | None = None) -> FlaskForm:
        """The refused form if it is this one (its class and prefix), else a fresh one."""
        r = self.refused
        if type(r) is cls and (prefix is None or r._prefix == f"{prefix}-"):
            return r
        return cls(formdata=None) if prefix is None else cls(prefix=prefix, formdata=None)

    # forms with a one-time key or nothing typed are always fresh (a new key each time);
    # the button form is only a CSRF token, the same for every row: built once a page
    @cached_property
    def button(self) -> ButtonForm:
        return ButtonForm(formdata=None)

    @property
    def pay(self) -> PayCommissionForm:
        return PayCommissionForm(formdata=None)

    def fund(self, milestone_id: int) -> FundForm:
        return FundForm(prefix=f"fund-{milestone_id}", formdata=None)

    def price_answer(self, proposal_id: int | None) -> PriceAnswerForm:
        return PriceAnswerForm(formdata=None, proposal=proposal_id or "")

    @property
    def event(self) -> EventForm:
        return self._form(EventForm, "event")

    @property
    def complete(self) -> CompleteReferralForm:
        return self._form(CompleteReferralForm)

    @property
    def contest(self) -> ContestInvoiceForm:
        return self._form(ContestInvoiceForm, "contest")

    @property
    def message(self) -> MessageForm:
        return self._form(MessageForm, "message")

    @property
    def milestone(self) -> MilestoneForm:
        return self._form(MilestoneForm, "milestone")

    @property
    def price(self) -> PriceProposalForm:
        return self._form(PriceProposalForm, "price")

    @property
    def review(self) -> ReviewForm:
        return self._form(ReviewForm)

    def deliver(self, milestone_id: int) -> DeliveryForm:
        return self._form(DeliveryForm, f"deliver-{milestone_id}")

    def revision(self, milestone_id: int) -> NoteForm:
        return self._form(NoteForm, f"revision-{milestone_id}")

    def dispute(self, milestone_id: int) -> StatementForm:
        return self._form(StatementForm, f"dispute-{milestone_id}")

    def reply(self, dispute_id: int) -> StatementForm:
        return self._form(StatementForm, f"reply-{dispute_id}")
