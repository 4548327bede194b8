"""A pytest plugin (listed in ``tests/conftest.py``): every notification any test
writes must link to a page the application serves to a GET.

Links are built with ``offload.core.links.site_path``, so a renamed endpoint fails
where the link is built; this catches the rest (a link built from the wrong endpoint,
a path written by hand) in whichever test wrote it, instead of in a member's inbox.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask import current_app
from sqlalchemy import event
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from offload.notifications.models import Notification


def resolves(link: str) -> bool:
    """Whether the path of ``link`` (query and anchor aside) is a GET route of the app."""
    adapter = current_app.url_map.bind("")
    try:
        adapter.match(urlsplit(link).path, method="GET")
    except (HTTPException, RequestRedirect):  # not found, not GET, or only with a slash
        return False
    return True


@pytest.fixture(autouse=True)
def _notification_links_resolve():
    dead: list[str] = []

    def check(_mapper, _connection, notification: Notification) -> None:
        if notification.link is not None and not resolves(notification.link):
            dead.append(f"{notification.kind}: {notification.link}")

    event.listen(Notification, "before_insert", check)
    yield
    event.remove(Notification, "before_insert", check)
    assert not dead, "notifications linking to no page:\n" + "\n".join(dead)
