"""A member asks for an export of their data from Settings (a wrong password first),
the job worker builds it, the mailed link downloads the zip (the only way to it: the
page has no download button); "Send the link again" mails a new link and the old one
stops working; another member opening the link gets nothing."""

import json
import zipfile

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Error, expect

from tests.support.browser import gig, log_in
from tests.support.factories import PASSWORD
from tests.support.smtp import first_link

pytestmark = pytest.mark.browser


def _download(page, link: str, saved):
    with page.expect_download() as download:
        try:
            page.goto(link)
        except Error as error:  # the link answers with the file, not a page
            assert "Download is starting" in str(error)
    assert download.value.suggested_filename.startswith("offload-data-ada-")
    download.value.save_as(saved)
    return zipfile.ZipFile(saved)


def test_export_my_data(browser, live_server, app, make_member, smtp, shot, tmp_path):
    ada = make_member("ada", display_name="Ada Lovelace")
    make_member("bob", email="bob@private.example")
    gig(ada, "referral", "Port a shop to Flask")

    page = browser.new_context(accept_downloads=True).new_page()
    log_in(page, live_server, "ada")
    page.goto(f"{live_server}/settings")
    page.locator("#export-data").get_by_role("link", name="Export my data").click()
    expect(page.get_by_text("You have not asked for an export yet.")).to_be_visible()
    form = page.locator("#export-request")
    form.get_by_label("Your password").fill("not my password")
    form.get_by_role("button", name="Export my data").click()
    expect(page.get_by_text("Your password is not correct.")).to_be_visible()
    page.locator("#export-request").get_by_label("Your password").fill(PASSWORD)
    page.locator("#export-request").get_by_role("button", name="Export my data").click()
    expect(page.get_by_text("We are preparing your export.")).to_be_visible()
    expect(page.locator("#export-state").get_by_text("Waiting to be built")).to_be_visible()
    shot(page, "export-01-asked")

    result = app.test_cli_runner().invoke(args=["jobs", "run"])  # cron's run of the jobs
    assert "build_exports: built 1 data exports" in result.stdout, result.stdout
    mail = smtp.wait_for("ada@example.com", "Your Offload data export is ready")
    link = first_link(mail)

    archive = _download(page, link, tmp_path / "export.zip")
    assert "README.txt" in archive.namelist()
    assert json.loads(archive.read("gigs.json"))[0]["title"] == "Port a shop to Flask"
    assert all(b"bob@private.example" not in archive.read(n) for n in archive.namelist())

    page.goto(f"{live_server}/settings/export")
    state = page.locator("#export-state")
    expect(state.get_by_text("Ready")).to_be_visible()
    expect(state).to_contain_text("We e-mailed you a link to download it (valid until")
    expect(page.get_by_role("link", name="Download your data")).to_have_count(0)
    expect(page.locator("#export-refused")).to_contain_text("You can ask for the next one at")
    shot(page, "export-02-ready")
    axe = Axe().run(page)
    assert axe.violations_count == 0, axe.generate_report()

    # lost the mail: a new link, and the old one stops working
    state.get_by_role("button", name="Send the link again").click()
    expect(page.get_by_text("We sent the link again.")).to_be_visible()
    app.test_cli_runner().invoke(args=["jobs", "run"])  # cron delivers the mail
    new_link = first_link(smtp.wait_for("ada@example.com", "Your Offload data export"))
    assert new_link != link
    assert page.goto(link).status == 404
    assert _download(page, new_link, tmp_path / "again.zip").namelist() \
        == archive.namelist()
    link = new_link

    other = browser.new_context().new_page()
    log_in(other, live_server, "bob")
    response = other.goto(link)
    assert response.status == 404
    shot(other, "export-03-not-theirs")
