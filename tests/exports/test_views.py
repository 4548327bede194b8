"""The "Export my data" page, the mailed link (the one way to the zip) and sending it
again."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

from sqlalchemy import update

from offload.core.db import atomic, utcnow
from offload.exports.models import DataExport, ExportState
from offload.exports.services import build_due_exports, expire_exports
from offload.notifications.services import deliver_outbox
from tests.support.factories import PASSWORD, count, fresh
from tests.support.smtp import SMTPServer, first_link


def _ask(client) -> None:
    response = client.post("/settings/export", data={"password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/settings/export"


def _mailed_path(outbox, address: str) -> str:
    return outbox.path_of_last_link(address)


def test_settings_links_to_the_page(client, login, make_member):
    login(make_member("ada"))
    page = client.get("/settings").get_data(as_text=True)
    assert 'id="export-data"' in page and 'href="/settings/export"' in page


def test_asking_shows_the_state_until_ready(client, login, make_member):
    login(make_member("ada"))
    page = client.get("/settings/export").get_data(as_text=True)
    assert "You have not asked for an export yet." in page
    assert "one export an hour" in page and 'name="password"' in page
    _ask(client)
    page = client.get("/settings/export").get_data(as_text=True)
    assert "We are preparing your export." in page
    assert "Waiting to be built" in page and 'name="password"' not in page
    build_due_exports()
    page = client.get("/settings/export").get_data(as_text=True)
    assert "Ready" in page and "We e-mailed you a link to download it (valid until" in page
    assert "Send the link again" in page
    assert "Download your data" not in page and "/file" not in page  # only the mailed link
    # within the hour the page says when they may ask again, instead of the form
    assert "You can ask for the next one at" in page and 'name="password"' not in page


def test_a_wrong_password_says_so_and_asks_nothing(client, login, make_member):
    login(make_member("ada"))
    response = client.post("/settings/export", data={"password": "not my password"})
    assert response.status_code == 422
    assert "Your password is not correct." in response.get_data(as_text=True)
    assert count(DataExport) == 0
    response = client.post("/settings/export", data={"password": ""})
    assert response.status_code == 422 and "Enter your password." in response.get_data(
        as_text=True)


def test_the_hourly_limit_is_said_plainly(client, login, make_member):
    login(make_member("ada"))
    _ask(client)
    build_due_exports()
    response = client.post("/settings/export", data={"password": PASSWORD})
    assert response.status_code == 422
    assert "You can ask for one export an hour." in response.get_data(as_text=True)


def test_the_mailed_link_downloads_the_zip_for_its_owner(client, login, make_member, outbox):
    ada = make_member("ada")
    login(ada)
    _ask(client)
    build_due_exports()
    path = _mailed_path(outbox, "ada@example.com")
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith(
        "attachment; filename=offload-data-ada-")
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert "profile.json" in archive.namelist()
    export = fresh(DataExport, int(path.split("/")[3]))
    assert export.state == ExportState.READY  # a GET changes nothing
    # the session alone (a stolen cookie) gets no zip: there is no download without the link
    assert client.get(f"/settings/export/{export.id}/file").status_code == 404


def test_a_wrong_token_another_member_or_nobody_is_refused(client, login, make_member,
                                                           outbox):
    ada, bob = make_member("ada"), make_member("bob")
    login(ada)
    _ask(client)
    build_due_exports()
    path = _mailed_path(outbox, "ada@example.com")
    export_id = path.split("/")[3]
    assert client.get(f"/settings/export/{export_id}/{'x' * 43}").status_code == 404
    assert client.get(path[:-1] + ("A" if path[-1] != "A" else "B")).status_code == 404
    login(bob)  # the link is Ada's alone, and so is sending it again
    assert client.get(path).status_code == 404
    assert client.post(f"/settings/export/{export_id}/link").status_code == 404
    client.post("/logout")
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_an_expired_link_gets_a_friendly_page(client, login, make_member, outbox):
    login(make_member("ada"))
    _ask(client)
    build_due_exports()
    path = _mailed_path(outbox, "ada@example.com")
    with atomic() as session:
        session.execute(update(DataExport).values(
            requested_at=utcnow() - timedelta(hours=73),
            expires_at=utcnow() - timedelta(minutes=1)))
    for when in ("past its time", "after the job deleted it"):
        response = client.get(path)
        assert response.status_code == 410, when
        page = response.get_data(as_text=True)
        assert "This export has expired" in page and "72 hours" in page
        assert 'href="/settings/export"' in page
        assert expire_exports() in (0, 1)
    page = client.get("/settings/export").get_data(as_text=True)
    assert "Expired" in page and 'name="password"' in page


def test_the_link_arrives_by_smtp(client, login, make_member, smtp_port):
    login(make_member("ada"))
    _ask(client)
    build_due_exports()
    with SMTPServer(smtp_port) as smtp:
        assert deliver_outbox().sent == 1
    [message] = smtp.messages
    assert message["Subject"] == "Your Offload data export is ready"
    link = first_link(message)
    assert "/settings/export/" in link
    assert client.get("/" + link.split("://", 1)[1].split("/", 1)[1]).status_code == 200


def test_an_export_over_the_size_limit_says_why(client, login, make_member, app,
                                                monkeypatch):
    login(make_member("ada"))
    monkeypatch.setitem(app.config, "EXPORT_MAX_BYTES", 1)
    _ask(client)
    build_due_exports()
    page = client.get("/settings/export").get_data(as_text=True)
    assert "Too large" in page
    assert "larger than 1 Byte, the most we build" in page


def test_sending_the_link_again_mints_a_new_one_and_the_old_stops(client, login, make_member,
                                                                  outbox):
    login(make_member("ada"))
    _ask(client)
    build_due_exports()
    old = _mailed_path(outbox, "ada@example.com")
    export_id = old.split("/")[3]
    response = client.post(f"/settings/export/{export_id}/link")
    assert response.status_code == 302 and response.headers["Location"] == "/settings/export"
    page = client.get("/settings/export").get_data(as_text=True)
    assert "We sent the link again." in page
    new = _mailed_path(outbox, "ada@example.com")
    assert new != old and len(outbox.all()) == 2
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_sending_the_link_again_is_rate_limited(client, login, make_member, outbox, app,
                                               monkeypatch):
    from offload.core.extensions import limiter

    limiter.reset()  # member ids start again from 1 in every test
    monkeypatch.setitem(app.config, "EXPORT_LINK_LIMIT", "1 per hour")
    login(make_member("ada"))
    _ask(client)
    build_due_exports()
    export_id = _mailed_path(outbox, "ada@example.com").split("/")[3]
    assert client.post(f"/settings/export/{export_id}/link").status_code == 302
    assert client.post(f"/settings/export/{export_id}/link").status_code == 429
    assert len(outbox.all()) == 2


def test_an_expired_export_has_no_link_to_send_again(client, login, make_member, outbox):
    login(make_member("ada"))
    _ask(client)
    build_due_exports()
    export_id = _mailed_path(outbox, "ada@example.com").split("/")[3]
    with atomic() as session:
        session.execute(update(DataExport).values(expires_at=utcnow() - timedelta(minutes=1)))
    response = client.post(f"/settings/export/{export_id}/link")
    assert response.status_code == 302
    page = client.get("/settings/export").get_data(as_text=True)
    assert "This export has expired" in page and len(outbox.all()) == 1
