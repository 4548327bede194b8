"""Milestone forms: shape only; the services check the rules."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from offload.wallet.forms import AmountField, MoneyForm

from .models import NOTE_MAX, TITLE_MAX


class MilestoneForm(FlaskForm):
    title = StringField("Milestone", validators=[
        InputRequired("Name the milestone."),
        Length(max=TITLE_MAX, message=f"The title can be at most {TITLE_MAX} characters.")])
    amount = AmountField("Amount", validators=[InputRequired("Enter the amount.")],
                         render_kw={"inputmode": "decimal", "autocomplete": "off"})
    due_on = DateField("Due", validators=[InputRequired("Choose the day it is due.")])


class FundForm(MoneyForm):
    """One per milestone (prefix ``fund-<id>``), each with its one-time key."""


class NoteForm(FlaskForm):
    note = TextAreaField("Note", validators=[
        InputRequired("Write a note."),
        Length(max=NOTE_MAX, message=f"The note can be at most {NOTE_MAX:,} characters.")],
        render_kw={"rows": 3})
