"""A member's time zone: chosen in the settings, used on their pages and in their mail."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from offload.accounts.models import User
from offload.accounts.services import create_member, set_time_zone
from offload.core.db import atomic, db
from offload.core.errors import InvalidField
from offload.notifications.models import Notification
from offload.notifications.services import notify
from tests.support.factories import PASSWORD, in_days

SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")
AT = datetime(2026, 12, 3, 13, 5, tzinfo=UTC)


def _selected_zone(page: str) -> str | None:
    match = re.search(r'<option selected value="([^"]+)"', page)
    return match[1] if match else None


def test_members_start_in_utc_and_the_settings_list_the_zones(client, make_member, login):
    login(make_member("alice"))
    page = client.get("/settings").get_data(as_text=True)
    assert _selected_zone(page) == "UTC"
    assert '<optgroup label="Asia">' in page and 'value="Asia/Tokyo"' in page


def test_a_new_zone_shows_times_in_it_on_pages_and_in_mail(app, client, make_member, login,
                                                           outbox):
    alice = make_member("alice")
    login(alice)
    notify(alice, "invite_accepted", title="Bob joined", link="/members/alice")
    with atomic():
        db.session.execute(update(Notification).values(created_at=AT))
    page = client.get("/notifications").get_data(as_text=True)
    assert 'title="3 Dec 2026, 13:05 UTC"' in page

    response = client.post("/settings/time-zone", data={"time_zone": "Asia/Tokyo"})
    assert response.status_code == 302 and response.location == "/settings#time-zone"
    assert db.session.get(User, alice.id).time_zone == "Asia/Tokyo"
    settings = client.get("/settings").get_data(as_text=True)
    assert _selected_zone(settings) == "Asia/Tokyo"
    assert "<strong>Asia/Tokyo</strong> (JST, UTC+09:00)" in settings
    page = client.get("/notifications").get_data(as_text=True)
    assert 'title="3 Dec 2026, 22:05 JST"' in page
    assert f'datetime="{AT.replace(tzinfo=None).isoformat()}' in page  # still the UTC instant

    # a log-in from a new device is mailed with its time in her zone
    phone = app.test_client()
    phone.environ_base.update(HTTP_USER_AGENT=SAFARI_IPHONE)
    assert phone.post("/login", data={"login": "alice", "password": PASSWORD}).status_code == 302
    mail = [m for m in outbox.to(alice.email) if m.template == "new_sign_in"][-1]
    assert re.search(r"Time: \d+ \w{3} \d{4}, \d\d:\d\d JST", mail.text_body)
    assert "UTC" not in mail.text_body


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "Asia/Tokyo<script>"])
def test_an_unknown_zone_is_refused_with_a_message(client, make_member, login, zone):
    alice = make_member("alice", time_zone="Europe/Paris")
    login(alice)
    response = client.post("/settings/time-zone", data={"time_zone": zone})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Choose a time zone from the list" in page and 'aria-invalid="true"' in page
    assert db.session.get(User, alice.id).time_zone == "Europe/Paris"


def test_the_service_refuses_an_unknown_zone_too(make_member):
    alice = make_member("alice")
    with pytest.raises(InvalidField, match="Choose a time zone"):
        set_time_zone(alice, "Europe/Atlantis")
    with pytest.raises(InvalidField, match="Choose a time zone"):
        create_member(username="bob", email="bob@example.com", password=PASSWORD,
                      time_zone="Nowhere")
    set_time_zone(alice, "America/Argentina/Buenos_Aires")
    assert db.session.get(User, alice.id).time_zone == "America/Argentina/Buenos_Aires"


def test_a_zone_the_list_does_not_offer_stays_selected(client, make_member, login):
    login(make_member("alice", time_zone="US/Eastern"))  # a browser may send such a name
    assert _selected_zone(client.get("/settings").get_data(as_text=True)) == "US/Eastern"


def test_a_deadline_is_the_same_day_in_every_zone(client, make_member, make_gig, login):
    gig = make_gig(deadline=in_days(30))
    shown = f"<dd>{gig.deadline.day} {gig.deadline:%b %Y}</dd>"  # "<dd>2 Jan 2027</dd>"
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"):  # UTC+14, UTC-11
        login(make_member(f"m{zone.split('/')[-1].lower()}", time_zone=zone))
        assert shown in client.get(f"/gigs/{gig.id}").get_data(as_text=True)
