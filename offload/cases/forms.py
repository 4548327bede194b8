"""Case and report forms: shape only; the services check the rules."""

from __future__ import annotations

from wtforms import (
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from offload.core.forms import ID_MAX, MoneyField, OffloadForm, text_area
from offload.wallet.forms import MoneyForm

from .models import NOTE_MAX, REASON_MAX, REPORT_MAX, SUMMARY_MAX, CaseKind, EvidenceKind

KIND_CHOICES = [SelectChoice(k.value, k.label) for k in CaseKind]
EVIDENCE_CHOICES = [SelectChoice("", "None")] + [
    SelectChoice(k.value, k.value.capitalize()) for k in EvidenceKind]


# the moderation log is for every member to read: whoever writes a summary must know
SUMMARY_IS_PUBLISHED = ("Published in the moderation log, which every member can read; the "
                        "member and their inviter are told.")


class OpenCaseForm(OffloadForm):
    subject = StringField("Member (username)", validators=[InputRequired("Name the member.")])
    kind = SelectField("Kind", choices=KIND_CHOICES, validators=[InputRequired()])
    summary = text_area("Summary", required="Say what the case is about.", limit=SUMMARY_MAX,
                        rows=4, description=SUMMARY_IS_PUBLISHED)
    evidence_kind = SelectField("Evidence (optional)", choices=EVIDENCE_CHOICES,
                                validators=[Optional()])
    evidence_id = IntegerField("Its number", validators=[Optional(),
                                                        NumberRange(min=1, max=ID_MAX)])


class ReportCaseForm(OffloadForm):
    """Opening a case from a report (the report names the member)."""

    kind = SelectField("Kind", choices=KIND_CHOICES, default=CaseKind.MEMBER_REPORT.value,
                       validators=[InputRequired()])
    summary = text_area("Summary", required="Say what the case is about.", limit=SUMMARY_MAX,
                        rows=3)


class EvidenceForm(OffloadForm):
    kind = SelectField("Link", choices=EVIDENCE_CHOICES[1:], validators=[InputRequired()])
    target_id = IntegerField("Number", validators=[InputRequired("Enter its number."),
                                                   NumberRange(min=1, max=ID_MAX)])
    note = StringField("Note (optional)", validators=[Length(max=NOTE_MAX)])


class ResolveCaseForm(MoneyForm):
    """Resolving a case; ``contests_invoice=True`` for a case that contests an invoiced
    amount, where the admin's password is required (settling it moves money). A money
    form: its one-time key makes a double submit settle once."""

    field_prefix = ""  # the only form with a key on the case page; names stay as they were
    resolution = RadioField("Outcome", choices=[
        SelectChoice("cleared", "Cleared: nothing to answer for"),
        SelectChoice("warned", "Warned: the member is told, nothing else changes"),
        SelectChoice("suspended", "Suspended: log-in blocked, open gigs, offers and invites "
                                  "closed")], validators=[InputRequired("Choose an outcome.")])
    reason = text_area("Reason", required="Write the reason.", limit=REASON_MAX, rows=3,
                       description="The member and their inviter read it; it goes to the "
                                   "moderation log.")
    # only on a case that contests an invoiced amount
    corrected = MoneyField("Corrected invoiced amount (optional)", required=None,
                           description="Leave it empty to keep the amount the performer "
                                       "entered. A new amount recomputes the commission; the "
                                       "reason above is its reason.")
    # only on a case that contests an invoiced amount, and required there
    password = PasswordField("Your password",
                             description="Settling an invoiced amount moves money: confirm "
                                         "it is you.",
                             render_kw={"autocomplete": "current-password"})

    def __init__(self, *args, contests_invoice: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.contests_invoice = contests_invoice
        self.password.flags.required = contests_invoice

    def validate_password(self, field):
        if self.contests_invoice and not field.data:
            raise ValidationError("Enter your password to confirm.")


class ReasonForm(OffloadForm):
    reason = text_area("Reason", required="Write the reason.", limit=REASON_MAX, rows=2)


class ReportForm(OffloadForm):
    body = text_area("What happened", required="Say what happened.", limit=REPORT_MAX, rows=5,
                     description="Only admins read it. Say what happened and when; link "
                                 "what shows it.")
    project = IntegerField(validators=[Optional(), NumberRange(min=1, max=ID_MAX)])
