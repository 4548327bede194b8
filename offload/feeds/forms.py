"""The Settings page's feed-link buttons. Replacing or revoking a link ends the URLs a
feed reader has, so those two ask to be confirmed (a box: the pages run no script).
Each form has its prefix: both boxes are on the Settings page at once."""

from __future__ import annotations

from wtforms import BooleanField
from wtforms.validators import DataRequired

from offload.core.forms import OffloadForm, OnceForm


def _confirm(label: str) -> BooleanField:
    return BooleanField(label, validators=[DataRequired("Tick the box to confirm.")])


class MakeFeedLinkForm(OnceForm):
    """Make the first feed link."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("prefix", "feed")
        super().__init__(*args, **kwargs)


class ReplaceFeedLinkForm(MakeFeedLinkForm):
    confirm = _confirm("Yes, make a new link: feed readers using the old ones stop "
                       "getting updates")


class RevokeFeedLinkForm(OffloadForm):
    confirm = _confirm("Yes, revoke it: the feed links stop working")

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("prefix", "feed-revoke")
        super().__init__(*args, **kwargs)
