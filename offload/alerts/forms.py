"""Alert forms: saving a board search, renaming or re-timing an alert, the buttons."""

from __future__ import annotations

from wtforms import HiddenField, RadioField, SelectChoice, StringField
from wtforms.validators import InputRequired, Length

from offload.core.forms import OffloadForm

from .models import NAME_MAX, QUERY_MAX, Frequency

FREQUENCIES = [SelectChoice(f.value, f.label) for f in Frequency]
_NAME_LENGTH = Length(max=NAME_MAX, message=f"Keep the name under {NAME_MAX} characters.")


class NewAlertForm(OffloadForm):
    # the board's query string, carried from the board to this page and back
    query = HiddenField(validators=[Length(max=QUERY_MAX * 2)])
    name = StringField("Name", validators=[_NAME_LENGTH],
                       description="Leave it empty to name the alert after the search.")
    frequency = RadioField("Send new gigs", choices=FREQUENCIES, default=Frequency.INSTANT.value,
                           validators=[InputRequired("Choose how often to hear about new gigs.")])


class AlertForm(OffloadForm):
    name = StringField("Name", validators=[InputRequired("Give the alert a name."), _NAME_LENGTH])
    frequency = RadioField("Send new gigs", choices=FREQUENCIES,
                           validators=[InputRequired("Choose how often to hear about new gigs.")])
