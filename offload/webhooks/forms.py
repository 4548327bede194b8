"""Webhook forms: a new endpoint, its events, and (site-wide, admins) the reason."""

from __future__ import annotations

from wtforms import SelectChoice, StringField
from wtforms.validators import DataRequired, InputRequired

from offload.core.forms import OffloadForm, at_most, text_area
from offload.moderation.services import REASON_MAX
from offload.offers.forms import CheckboxesField

from .models import URL_MAX, EventType


def _events_field() -> CheckboxesField:
    return CheckboxesField("Send these events",
                           choices=[SelectChoice(e.value, e.label) for e in EventType],
                           validators=[DataRequired("Choose at least one event.")])


def _reason_field():
    return text_area("Reason", required="Write the reason.", limit=REASON_MAX, rows=2,
                     description="It goes to the moderation log.")


class EndpointForm(OffloadForm):
    url = StringField("Endpoint URL", validators=[
        InputRequired("Give the address to send events to."), at_most(URL_MAX)],
        description="An https:// address of yours; each event is POSTed there as JSON, "
                    "signed with the endpoint's secret.")
    events = _events_field()


class EventsForm(OffloadForm):
    events = _events_field()


class SiteEndpointForm(EndpointForm):
    reason = _reason_field()


class SiteEventsForm(EventsForm):
    reason = _reason_field()


class ReasonForm(OffloadForm):
    """A site-wide endpoint's button (rotate, turn on, delete): the admin's reason."""

    reason = _reason_field()
