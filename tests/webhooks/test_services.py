"""Registering endpoints and queueing events: rules, the site-wide endpoints, payloads."""

import json

import pytest
from sqlalchemy import func, select

from offload.core.db import atomic, db
from offload.core.errors import Conflict, Invalid, InvalidField, NotAllowed
from offload.core.links import site_path
from offload.moderation.models import ModerationEntry
from offload.notifications.services import notify
from offload.webhooks import services
from offload.webhooks.models import WebhookDelivery, WebhookEndpoint

EVENTS = ["offer.received", "message.received"]


def _deliveries():
    return db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()


@pytest.mark.parametrize("url", [
    "http://hooks.example/x", "ftp://hooks.example/x", "https://10.0.0.8/x",
    "https://169.254.169.254/latest", "https://[::1]/x", "https://[::ffff:10.0.0.1]/x",
    "https://localhost/x",
    # IPv6 forms that carry an IPv4 address: mapped, compatible, NAT64, 6to4, Teredo
    "https://[::ffff:8.8.8.8]/x", "https://[::8.8.8.8]/x", "https://[64:ff9b::808:808]/x",
    "https://[64:ff9b:1::808:808]/x", "https://[2002:808:808::1]/x",
    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/x", "https://[fe80::1]/x",
    "https://user:pw@hooks.example/x", "https:///x", "not a url"])
def test_only_public_https_addresses_are_taken(app, make_member, url):
    member = make_member("ada")
    app.config["WEBHOOKS_ALLOW_HTTP_LOOPBACK"] = False
    try:
        with pytest.raises(InvalidField) as refused:
            services.create_webhook_endpoint(actor=member, url=url, events=EVENTS)
    finally:
        app.config["WEBHOOKS_ALLOW_HTTP_LOOPBACK"] = True
    assert refused.value.field == "url"


def test_loopback_over_http_only_with_the_flag(app, make_member):
    member = make_member("ada")
    made = services.create_webhook_endpoint(actor=member, url="http://127.0.0.1:9/h",
                                            events=EVENTS)
    assert made.secret.startswith("whsec_")
    endpoint = db.session.get(WebhookEndpoint, made.endpoint_id)
    assert endpoint.user_id == member.id and endpoint.events == "offer.received message.received"
    made = services.create_webhook_endpoint(actor=member, url="https://hooks.example/in",
                                            events=["commission.due"])
    assert db.session.get(WebhookEndpoint, made.endpoint_id).url == "https://hooks.example/in"


def test_events_must_be_known_and_some(make_member):
    member = make_member("ada")
    for events in ([], ["gig.deleted"]):
        with pytest.raises(InvalidField) as refused:
            services.create_webhook_endpoint(actor=member, url="https://h.example/", events=events)
        assert refused.value.field == "events"


def test_a_member_has_at_most_the_configured_number(app, make_member):
    member = make_member("ada")
    app.config["WEBHOOK_ENDPOINTS_MAX"] = 2
    try:
        for _ in range(2):
            services.create_webhook_endpoint(actor=member, url="https://h.example/", events=EVENTS)
        with pytest.raises(Conflict):
            services.create_webhook_endpoint(actor=member, url="https://h.example/", events=EVENTS)
    finally:
        app.config["WEBHOOK_ENDPOINTS_MAX"] = 5
    # another member's count is their own
    services.create_webhook_endpoint(actor=make_member("bob"), url="https://h.example/",
                                     events=EVENTS)


def test_only_the_owner_changes_an_endpoint(make_member):
    ada, bob = make_member("ada"), make_member("bob")
    made = services.create_webhook_endpoint(actor=ada, url="https://h.example/", events=EVENTS)
    for change in (lambda: services.update_webhook_events(made.endpoint_id, actor=bob,
                                                          events=EVENTS),
                   lambda: services.rotate_webhook_secret(made.endpoint_id, actor=bob),
                   lambda: services.delete_webhook_endpoint(made.endpoint_id, actor=bob)):
        with pytest.raises(NotAllowed):
            change()
    rotated = services.rotate_webhook_secret(made.endpoint_id, actor=ada)
    assert rotated.secret != made.secret
    assert db.session.get(WebhookEndpoint, made.endpoint_id).secret == rotated.secret


def test_site_wide_endpoints_are_admins_with_a_logged_reason(make_member):
    member, admin = make_member("ada"), make_member("root", admin=True)
    with pytest.raises(NotAllowed):
        services.create_webhook_endpoint(actor=member, url="https://h.example/", events=EVENTS,
                                         site_wide=True, reason="mine")
    with pytest.raises(Invalid):
        services.create_webhook_endpoint(actor=admin, url="https://h.example/", events=EVENTS,
                                         site_wide=True, reason=" ")
    assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0
    made = services.create_webhook_endpoint(actor=admin, url="https://ops.example/", events=EVENTS,
                                            site_wide=True, reason="The ops dashboard")
    assert db.session.get(WebhookEndpoint, made.endpoint_id).user_id is None
    services.delete_webhook_endpoint(made.endpoint_id, actor=admin, reason="Dashboard retired")
    log = db.session.execute(select(ModerationEntry.action, ModerationEntry.reason)
                             .order_by(ModerationEntry.id)).all()
    assert log == [("webhook_created", "The ops dashboard"),
                   ("webhook_deleted", "Dashboard retired")]


def test_a_notification_of_a_mapped_kind_is_queued_for_each_subscribed_endpoint(
        make_member, make_gig):
    ada, bob = make_member("ada"), make_member("bob")
    admin = make_member("root", admin=True)
    gig = make_gig(poster=ada)
    mine = services.create_webhook_endpoint(actor=ada, url="https://a.example/", events=EVENTS)
    services.create_webhook_endpoint(actor=ada, url="https://b.example/",
                                     events=["commission.due"])  # not this event
    services.create_webhook_endpoint(actor=bob, url="https://c.example/", events=EVENTS)
    site = services.create_webhook_endpoint(actor=admin, url="https://ops.example/",
                                            events=["offer.received"], site_wide=True,
                                            reason="Ops")
    note = notify(ada, "new_offer", title="A new offer on your gig",
                  link=site_path("gigs.show", gig_id=gig.id, _anchor="offers"))
    rows = _deliveries()
    assert sorted(r.endpoint_id for r in rows) == [mine.endpoint_id, site.endpoint_id]
    assert {r.event_type for r in rows} == {"offer.received"}
    assert rows[0].message_id != rows[1].message_id
    payload = json.loads(rows[0].payload)
    assert payload["type"] == "offer.received"
    assert payload["data"]["notification_id"] == note.id
    assert payload["data"]["member_id"] == ada.id
    assert payload["data"]["gig_id"] == gig.id
    assert payload["data"]["html_url"] == f"https://offload.example/gigs/{gig.id}#offers"
    assert payload["data"]["api_url"] == f"https://offload.example/api/v1/gigs/{gig.id}"
    assert payload["timestamp"].endswith("Z")


def test_kinds_without_an_event_and_members_without_endpoints_queue_nothing(
        make_member):
    ada, bob = make_member("ada"), make_member("bob")
    services.create_webhook_endpoint(actor=ada, url="https://a.example/", events=EVENTS)
    notify(ada, "invite_accepted", title="Someone joined", link="/dashboard")
    notify(bob, "new_message", title="A message", link="/dashboard")
    assert _deliveries() == []


def test_a_turned_off_endpoint_gets_nothing_new(make_member):
    ada = make_member("ada")
    made = services.create_webhook_endpoint(actor=ada, url="https://a.example/", events=EVENTS)
    with atomic():
        db.session.get(WebhookEndpoint, made.endpoint_id).disabled_at = db.func.now()
    notify(ada, "new_message", title="A message", link="/dashboard")
    assert _deliveries() == []


def test_a_rolled_back_notification_queues_nothing(make_member):
    ada = make_member("ada")
    services.create_webhook_endpoint(actor=ada, url="https://a.example/", events=EVENTS)
    with pytest.raises(RuntimeError), atomic():
        notify(ada, "new_message", title="A message", link="/dashboard")
        raise RuntimeError("the caller failed")
    assert _deliveries() == []


def test_the_payload_says_only_what_the_notification_says(make_member):
    ada = make_member("ada", email="ada@private.example")
    services.create_webhook_endpoint(actor=ada, url="https://a.example/", events=EVENTS)
    notify(ada, "new_message", title="Bob wrote to you", link="/dashboard",
           context={"body": "the client's phone is 555-0100", "amount_minor": 123_45})
    body = _deliveries()[0].payload
    assert "555-0100" not in body and "12345" not in body
    assert "ada@private.example" not in body
    assert set(json.loads(body)["data"]) == {
        "notification_id", "kind", "member_id", "title", "subject", "html_url", "api_url"}
