"""The Webhooks settings pages and the admins' site-wide ones."""

import re

from sqlalchemy import select

from offload.core.db import db
from offload.moderation.models import ModerationEntry
from offload.notifications.services import notify
from offload.webhooks import services
from offload.webhooks.models import WebhookEndpoint
from tests.support.webhooks import Receiver, verify

SECRET = re.compile(r"whsec_[A-Za-z0-9+/]{43}=")


def _html(response) -> str:
    return response.get_data(as_text=True)


def test_settings_links_to_the_webhooks_page(client, login, make_member):
    login(make_member("ada"))
    assert 'href="/webhooks"' in _html(client.get("/settings"))
    page = client.get("/webhooks")
    assert page.status_code == 200 and "No webhooks yet." in _html(page)


def test_registering_shows_the_secret_once(client, login, make_member):
    ada = make_member("ada")
    login(ada)
    answer = client.post("/webhooks", data={"url": "https://hooks.example/in",
                                            "events": ["offer.received", "milestone.changed"]})
    assert answer.status_code == 200
    [secret] = SECRET.findall(_html(answer))
    endpoint = db.session.scalars(select(WebhookEndpoint)).one()
    assert endpoint.secret == secret and endpoint.user_id == ada.id
    assert "won't be shown again" in _html(answer)
    listed = _html(client.get("/webhooks"))
    assert "https://hooks.example/in" in listed and "An offer on my gig" in listed
    assert secret not in listed and secret not in _html(client.get(f"/webhooks/{endpoint.id}"))


def test_a_refused_address_is_said_beside_the_field(client, login, make_member):
    login(make_member("ada"))
    answer = client.post("/webhooks", data={"url": "http://hooks.example/in",
                                            "events": ["offer.received"]})
    assert answer.status_code == 422
    assert "The address must start with https://." in _html(answer)
    answer = client.post("/webhooks", data={"url": "https://hooks.example/in"})
    assert answer.status_code == 422 and "Choose at least one event." in _html(answer)
    assert db.session.scalars(select(WebhookEndpoint)).all() == []


def test_events_rotate_turn_on_and_delete(client, login, make_member):
    ada = make_member("ada")
    made = services.create_webhook_endpoint(actor=ada, url="https://h.example/",
                                            events=["offer.received"])
    login(ada)
    url = f"/webhooks/{made.endpoint_id}"
    response = client.post(f"{url}/events", data={"events": ["commission.due"]})
    assert response.status_code == 302
    assert db.session.get(WebhookEndpoint, made.endpoint_id).events == "commission.due"
    rotated = client.post(f"{url}/rotate")
    [secret] = SECRET.findall(_html(rotated))
    assert secret != made.secret
    response = client.post(f"{url}/enable", follow_redirects=True)
    assert "That webhook is on already." in _html(response)
    response = client.post(f"{url}/delete", follow_redirects=True)
    assert "Deleted the webhook to https://h.example/." in _html(response)
    assert db.session.get(WebhookEndpoint, made.endpoint_id) is None


def test_another_members_webhook_is_not_found(client, login, make_member):
    made = services.create_webhook_endpoint(actor=make_member("ada"), url="https://h.example/",
                                            events=["offer.received"])
    login(make_member("bob"))
    url = f"/webhooks/{made.endpoint_id}"
    assert client.get(url).status_code == 404
    for action in ("events", "rotate", "enable", "delete"):
        assert client.post(f"{url}/{action}", data={"events": ["commission.due"]}
                           ).status_code == 404
    assert db.session.get(WebhookEndpoint, made.endpoint_id).events == "offer.received"
    assert client.get(f"/admin/webhooks/{made.endpoint_id}").status_code == 404


def test_the_delivery_log_shows_each_response(app, client, login, make_member):
    ada = make_member("ada")
    with Receiver(status=202) as receiver:
        made = services.create_webhook_endpoint(actor=ada, url=receiver.url,
                                                events=["message.received"])
        notify(ada, "new_message", title="Bob wrote to you", link="/dashboard")
        db.session.commit()
        services.deliver_webhooks()
        assert verify(made.secret, receiver.received[0])
    login(ada)
    page = _html(client.get(f"/webhooks/{made.endpoint_id}"))
    assert "message.received" in page and ">202<" in page
    assert "Nothing sent yet." not in page


def test_an_admin_registers_a_site_wide_webhook_with_a_reason(client, login, make_member):
    admin = make_member("root", admin=True)
    login(admin)
    data = {"url": "https://ops.example/in", "events": ["offer.received"]}
    refused = client.post("/admin/webhooks", data=data)
    assert refused.status_code == 422 and "Write the reason." in _html(refused)
    answer = client.post("/admin/webhooks", data={**data, "reason": "The ops dashboard"})
    assert answer.status_code == 200 and SECRET.search(_html(answer))
    endpoint = db.session.scalars(select(WebhookEndpoint)).one()
    assert endpoint.user_id is None and endpoint.created_by_id == admin.id
    url = f"/admin/webhooks/{endpoint.id}"
    assert "https://ops.example/in" in _html(client.get("/admin/webhooks"))
    assert client.get(url).status_code == 200
    rotated = client.post(f"{url}/rotate", data={"rotate-reason": "Leaked in a log"})
    assert rotated.status_code == 200 and SECRET.search(_html(rotated))
    deleted = client.post(f"{url}/delete", data={})
    assert deleted.status_code == 422  # no reason
    assert db.session.scalars(select(WebhookEndpoint)).all() != []
    client.post(f"{url}/delete", data={"delete-reason": "Retired"})
    assert db.session.scalars(select(WebhookEndpoint)).all() == []
    assert db.session.scalars(select(ModerationEntry.action).order_by(ModerationEntry.id)
                              ).all() == ["webhook_created", "webhook_secret_rotated",
                                          "webhook_deleted"]
