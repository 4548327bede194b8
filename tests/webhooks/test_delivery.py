"""Delivering to a real receiver on loopback: signed, retried with back-off, never lost,
never sent twice, turned off after repeated failures with a notice."""

import socket
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from offload.core.db import atomic, db, utcnow
from offload.jobs.worker import Worker
from offload.notifications.models import Notification, OutboxEmail
from offload.notifications.services import notify
from offload.webhooks import services
from offload.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.support.app import listening_worker
from tests.support.webhooks import Listener, Receiver, verify


@pytest.fixture
def receiver():
    with Receiver() as r:
        yield r


def _endpoint(member, url, **kw):
    return services.create_webhook_endpoint(actor=member, url=url,
                                            events=["message.received"], **kw)


def _event(member, title="Bob wrote to you"):
    notify(member, "new_message", title=title, link="/dashboard")


def _slow_batch(make_member, receiver, events: int, delay: float) -> None:
    """Ada's endpoint with ``events`` events waiting, each answered after ``delay`` s."""
    ada = make_member("ada")
    _endpoint(ada, receiver.url)
    for i in range(events):
        _event(ada, f"event {i}")
    db.session.commit()
    receiver.delay = delay


def test_a_delivery_arrives_signed_and_is_logged(make_member, receiver):
    ada = make_member("ada")
    made = _endpoint(ada, receiver.url)
    _event(ada)
    db.session.commit()
    report = services.deliver_webhooks()
    assert (report.delivered, report.failed) == (1, 0)
    [got] = receiver.received
    assert verify(made.secret, got)
    assert got.json["type"] == "message.received"
    assert got.json["data"]["title"] == "Bob wrote to you"
    delivery = db.session.scalars(select(WebhookDelivery)).one()
    assert got.headers["webhook-id"] == delivery.message_id and delivery.delivered_at
    attempt = db.session.scalars(select(WebhookAttempt)).one()
    assert attempt.status_code == 204 and attempt.error is None and attempt.duration_ms >= 0
    # delivered once: a second run sends nothing
    assert services.deliver_webhooks().attempted == 0 and len(receiver.received) == 1


def test_it_refuses_to_run_inside_a_transaction():
    with pytest.raises(RuntimeError), atomic():
        services.deliver_webhooks()


def test_a_receiver_that_is_down_loses_nothing(make_member, receiver):
    ada = make_member("ada")
    made = _endpoint(ada, receiver.url)
    receiver.stop()
    _event(ada, "first")
    _event(ada, "second")
    db.session.commit()
    now = utcnow()
    report = services.deliver_webhooks(now=now)
    # the first is tried and fails; the second waits behind the endpoint's back-off
    assert (report.delivered, report.failed) == (0, 1)
    endpoint = db.session.get(WebhookEndpoint, made.endpoint_id)
    assert endpoint.failures == 1 and endpoint.retry_at == now + timedelta(seconds=5)
    attempt = db.session.scalars(select(WebhookAttempt)).one()
    assert attempt.status_code is None and attempt.error == "could not connect"
    assert services.deliver_webhooks(now=now + timedelta(seconds=4)).attempted == 0
    # the second failure waits 5 minutes
    assert services.deliver_webhooks(now=now + timedelta(seconds=5)).failed == 1
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, made.endpoint_id).retry_at == \
        now + timedelta(seconds=5 + 300)
    receiver.start()
    assert services.deliver_webhooks(now=now + timedelta(seconds=60)).attempted == 0
    report = services.deliver_webhooks(now=now + timedelta(seconds=305))
    assert report.delivered == 2
    assert [r.json["data"]["title"] for r in receiver.received] == ["first", "second"]
    assert all(verify(made.secret, r) for r in receiver.received)
    db.session.expire_all()
    endpoint = db.session.get(WebhookEndpoint, made.endpoint_id)
    assert endpoint.failures == 0 and endpoint.retry_at is None and endpoint.last_status == 204


def test_an_error_status_or_a_redirect_is_a_failure_and_is_not_followed(make_member, receiver):
    ada = make_member("ada")
    _endpoint(ada, receiver.url)
    with Receiver() as elsewhere:
        receiver.status, receiver.location = 302, elsewhere.url
        _event(ada)
        db.session.commit()
        assert services.deliver_webhooks().failed == 1
        assert elsewhere.received == []
    receiver.status, receiver.location = 500, None
    assert services.deliver_webhooks(now=utcnow() + timedelta(seconds=6)).failed == 1
    codes = db.session.scalars(select(WebhookAttempt.status_code)
                               .order_by(WebhookAttempt.id)).all()
    assert codes == [302, 500]


def test_after_repeated_failures_the_endpoint_is_turned_off_and_its_owner_told(
        app, make_member, receiver):
    ada = make_member("ada")
    made = _endpoint(ada, receiver.url)
    receiver.status = 503
    _event(ada)
    db.session.commit()
    now = utcnow()
    app.config["WEBHOOK_MAX_FAILURES"] = 3
    try:
        reports = [services.deliver_webhooks(now=now + timedelta(days=i)) for i in range(4)]
    finally:
        app.config["WEBHOOK_MAX_FAILURES"] = 8
    assert [r.failed for r in reports] == [1, 1, 1, 0]
    assert [r.disabled for r in reports] == [0, 0, 1, 0]
    endpoint = db.session.get(WebhookEndpoint, made.endpoint_id)
    assert endpoint.disabled_at is not None and endpoint.failures == 3
    assert endpoint.disabled_reason == "Turned off after 3 failed deliveries in a row."
    notice = db.session.scalars(select(Notification)
                                .where(Notification.kind == "webhook_disabled")).one()
    assert notice.user_id == ada.id and notice.link == f"/webhooks/{made.endpoint_id}"
    assert "3 failed deliveries" in notice.title
    assert db.session.scalars(select(OutboxEmail).where(OutboxEmail.user_id == ada.id)).all()
    # nothing is lost: turned on again, the waiting event goes out
    receiver.status = 200
    services.enable_webhook_endpoint(made.endpoint_id, actor=ada)
    assert services.deliver_webhooks(now=now + timedelta(days=5)).delivered == 1
    assert len(receiver.received) == 4


def test_two_deliverers_at_once_send_each_event_once(make_member, receiver, race):
    ada = make_member("ada")
    _endpoint(ada, receiver.url)
    for i in range(12):
        _event(ada, f"event {i}")
    db.session.commit()
    results, errors = race(2, lambda _: services.deliver_webhooks().delivered)
    assert errors == []
    assert sum(results) == 12
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == 12 and len(set(ids)) == 12


def test_a_site_wide_endpoint_receives_every_members_events(make_member, receiver):
    admin = make_member("root", admin=True)
    made = _endpoint(admin, receiver.url, site_wide=True, reason="Ops dashboard")
    ada, bob = make_member("ada"), make_member("bob")
    _event(ada, "to ada")
    _event(bob, "to bob")
    db.session.commit()
    assert services.deliver_webhooks().delivered == 2
    got = {(r.json["data"]["member_id"], r.json["data"]["title"]) for r in receiver.received}
    assert got == {(ada.id, "to ada"), (bob.id, "to bob")}
    assert all(verify(made.secret, r) for r in receiver.received)


def test_a_name_resolving_to_a_private_address_is_not_sent_to(app, make_member, monkeypatch):
    ada = make_member("ada")
    _endpoint(ada, "https://hooks.example/in")
    monkeypatch.setattr("socket.getaddrinfo",
                        lambda *a, **k: [(2, 1, 6, "", ("10.1.2.3", 443))])
    _event(ada)
    db.session.commit()
    assert services.deliver_webhooks().failed == 1
    # the log says why, not what the name resolved to (members can't map our network)
    assert db.session.scalar(select(WebhookAttempt.error)) == "refused: not a public address"


def test_a_name_that_rebinds_to_loopback_after_the_check_is_not_connected_to(
        app, make_member, monkeypatch):
    """DNS rebinding: the name answers a public address to the check, then loopback. The
    POST goes to the address checked, so nothing reaches the loopback listener."""
    ada = make_member("ada")
    answers = []
    connected = []
    connect = socket.socket.connect

    def getaddrinfo(host, port, *args, **kwargs):
        address = "93.184.216.34" if not answers else "127.0.0.1"
        answers.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    def connect_loopback_only(sock, address):
        connected.append(address[0])
        if address[0] != "127.0.0.1":  # no test reaches the Internet
            raise ConnectionRefusedError("not in tests")
        return connect(sock, address)

    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT_SECONDS", 1)
    with Listener() as listener:
        _endpoint(ada, f"https://hooks.example:{listener.port}/in")
        _event(ada)
        db.session.commit()
        with monkeypatch.context() as patched:
            patched.setattr("socket.getaddrinfo", getaddrinfo)
            patched.setattr(socket.socket, "connect", connect_loopback_only)
            assert services.deliver_webhooks().failed == 1
    assert listener.accepted == 0 and connected == ["93.184.216.34"]
    assert db.session.scalar(select(WebhookAttempt.error)) == "could not connect"


def test_a_receiver_dripping_its_answer_is_cut_off_at_the_deadline(app, make_member, monkeypatch):
    ada = make_member("ada")
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT_SECONDS", 1)
    with Listener(drip=0.5, until=10) as listener:
        made = _endpoint(ada, f"http://127.0.0.1:{listener.port}/hooks")
        _event(ada)
        db.session.commit()
        started = time.monotonic()
        report = services.deliver_webhooks()
        took = time.monotonic() - started
    assert report.failed == 1 and took < 2
    attempt = db.session.scalars(select(WebhookAttempt)).one()
    assert attempt.status_code is None and attempt.error == "timed out"
    endpoint = db.session.get(WebhookEndpoint, made.endpoint_id)
    assert endpoint.failures == 1 and endpoint.retry_at is not None  # tried again later
    assert db.session.scalars(select(WebhookDelivery)).one().delivered_at is None


def test_each_row_is_signed_when_it_is_sent_not_when_the_batch_began(make_member, receiver):
    _slow_batch(make_member, receiver, 3, 1.5)
    assert services.deliver_webhooks().delivered == 3
    for got, arrived in zip(receiver.received, receiver.arrived, strict=True):
        assert abs(arrived - int(got.headers["webhook-timestamp"])) < 1.5


def test_a_slow_batch_keeps_each_claim_fresh_so_no_row_goes_twice(
        make_member, receiver, race, monkeypatch):
    """The second deliverer starts after the first one's earliest claims would have run
    out; a claim made when its row is sent still holds it."""
    _slow_batch(make_member, receiver, 8, 0.3)
    monkeypatch.setattr(services, "CLAIM_SECONDS", 1)

    def deliver(i):
        time.sleep(1.3 * i)
        return services.deliver_webhooks().delivered

    results, errors = race(2, deliver)
    assert errors == []
    ids = [r.headers["webhook-id"] for r in receiver.received]
    assert len(ids) == len(set(ids)) == sum(results) == 8


def test_the_job_worker_delivers_what_was_committed(app, make_member, receiver):
    ada = make_member("ada")
    made = _endpoint(ada, receiver.url)
    _event(ada)
    db.session.commit()
    Worker(app, jobs=()).run_once()
    [got] = receiver.received
    assert verify(made.secret, got) and got.json["data"]["title"] == "Bob wrote to you"


@pytest.mark.parametrize("status", [204, 500])
def test_an_endpoint_deleted_while_its_event_is_sent_leaves_nothing_behind(
        make_member, receiver, monkeypatch, status):
    ada = make_member("ada")
    made = _endpoint(ada, receiver.url)
    receiver.status = status
    _event(ada)
    db.session.commit()
    post = services._post

    def post_then_delete(send, now):
        answer = post(send, now)
        services.delete_webhook_endpoint(made.endpoint_id, actor=ada)  # meanwhile, in Settings
        return answer

    monkeypatch.setattr(services, "_post", post_then_delete)
    services.deliver_webhooks()
    assert len(receiver.received) == 1
    for model in (WebhookEndpoint, WebhookDelivery, WebhookAttempt):
        assert db.session.scalars(select(model)).all() == []


@pytest.mark.postgres_only
def test_a_queued_webhook_wakes_the_worker_long_before_its_poll(app, make_member, receiver):
    ada = make_member("ada")  # a new message is in-app by default: no mail wakes it
    _endpoint(ada, receiver.url)
    db.session.commit()
    with listening_worker(app):
        with atomic():
            _event(ada)
        committed = time.monotonic()
        while not receiver.received and time.monotonic() - committed < 10:
            time.sleep(0.01)
        assert len(receiver.received) == 1
        assert time.monotonic() - committed < 2  # the poll would take 60 s
