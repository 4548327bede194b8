"""Milestone forms: shape only; the services check the rules."""

from __future__ import annotations

from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, ValidationError

from offload.core.forms import MoneyField, OffloadForm, at_most, parse_id, text_area
from offload.wallet.forms import MoneyForm

from .models import NOTE_MAX, REASON_MAX, STATEMENT_MAX, TITLE_MAX


class MilestoneForm(OffloadForm):
    title = StringField("Milestone", validators=[
        InputRequired("Name the milestone."),
        at_most(TITLE_MAX, "The title")])
    amount = MoneyField("Amount", required="Enter the amount.")
    due_on = DateField("Due", validators=[InputRequired("Choose the day it is due.")])


class FundForm(MoneyForm):
    """One per milestone (prefix ``fund-<id>``), each with its one-time key."""


class NoteForm(OffloadForm):
    note = text_area("Note", required="Write a note.", limit=NOTE_MAX, rows=3,
                     limit_label="The note")


class DeliveryForm(NoteForm):
    files = MultipleFileField("Files (optional)")


class StatementForm(OffloadForm):
    statement = text_area(
        "Your statement", required="Say what went wrong and what you ask for.",
        limit=STATEMENT_MAX, rows=4,
        description="An admin reads both sides, the timeline and the messages, and decides.")


class ResolveForm(OffloadForm):
    outcome = RadioField("Decision", choices=[
        SelectChoice("release", "Release: all of it to the performer"),
        SelectChoice("refund", "Refund: all of it back to the customer"),
        SelectChoice("split", "Split: the amount below to the performer, the rest back")],
        validators=[InputRequired("Choose a decision.")])
    released = MoneyField("To the performer (split only)", required=None)
    reason = TextAreaField("Reason", validators=[InputRequired("Write the reason.")],
                           description="Both sides see it; it goes to the moderation log.",
                           render_kw={"rows": 3})
    close_project = BooleanField(
        "Also close the project at what the performer is then paid",
        description="When the work stops here: the agreed price becomes what is paid, "
                    "milestones not funded are taken off and the project completes (or is "
                    "cancelled if nothing was paid). Other milestones in escrow are settled "
                    "first.")
    password = PasswordField("Your password", validators=[
        InputRequired("Enter your password to confirm.")],
        render_kw={"autocomplete": "current-password"})


class PriceProposalForm(OffloadForm):
    """A lower agreed price for a task project, to close it short (prefix ``price``)."""

    price = MoneyField("New price", required="Enter the new price.")
    reason = text_area("Reason", required="Say why the price should be lower.",
                       limit=REASON_MAX, rows=3,
                       description="The other side reads it; it goes on the timeline.")


PROPOSAL_GONE = "That proposal is no longer there. Reload the page."


class PriceAnswerForm(OffloadForm):
    """Accept, decline or withdraw the proposal the page showed (its id, so a newer
    proposal is never answered by mistake)."""

    proposal = HiddenField()

    def validate_proposal(self, field: HiddenField) -> None:
        if parse_id(field.data) is None:  # not an id at all: crafted, or the page is broken
            raise ValidationError(PROPOSAL_GONE)

    def proposal_id(self) -> int:
        """The proposal's id, once the form is valid."""
        return parse_id(self.proposal.data)
