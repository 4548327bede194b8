"""The preferences form: one radio group per registered notification kind."""

from __future__ import annotations

from wtforms import RadioField, SelectChoice
from wtforms.validators import InputRequired

from offload.core.forms import OffloadForm

from .kinds import KINDS
from .models import Channel

CHANNEL_CHOICES = [
    SelectChoice(Channel.EMAIL.value, "E-mail and in-app"),
    SelectChoice(Channel.IN_APP.value, "In-app only"),
    SelectChoice(Channel.OFF.value, "Off"),
]


class PreferencesForm(OffloadForm):
    """Fields are named after the kinds, so the form binds only registered kinds."""

    channel_choices = CHANNEL_CHOICES

    def kind_fields(self) -> list[RadioField]:
        return [self[kind] for kind in KINDS]

    def channels(self) -> dict[str, str]:
        return {kind: self[kind].data for kind in KINDS}


for _kind, _info in KINDS.items():
    setattr(PreferencesForm, _kind, RadioField(
        _info.label, validators=[InputRequired()],
        choices=CHANNEL_CHOICES if _info.can_turn_off else CHANNEL_CHOICES[:2]))
