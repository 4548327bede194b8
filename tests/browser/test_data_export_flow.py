"""A member asks for an export of their data from Settings (a wrong password first),
the job worker builds it, the mailed link downloads the zip, and the page's button does
too while it is ready; another member opening the link gets nothing."""

import io
import json
import zipfile

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Error, expect

from tests.support.browser import gig, log_in
from tests.support.factories import PASSWORD
from tests.support.smtp import first_link

pytestmark = pytest.mark.browser


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

    with page.expect_download() as download:
        try:
            page.goto(link)
        except Error as error:  # the link answers with the file, not a page
            assert "Download is starting" in str(error)
    assert download.value.suggested_filename.startswith("offload-data-ada-")
    saved = tmp_path / "export.zip"
    download.value.save_as(saved)
    archive = zipfile.ZipFile(saved)
    assert "README.txt" in archive.namelist()
    assert json.loads(archive.read("gigs.json"))[0]["title"] == "Port a shop to Flask"
    assert all(b"bob@private.example" not in archive.read(n) for n in archive.namelist())

    page.goto(f"{live_server}/settings/export")
    expect(page.locator("#export-state").get_by_text("Ready")).to_be_visible()
    expect(page.locator("#export-refused")).to_contain_text("You can ask for the next one at")
    shot(page, "export-02-ready")
    axe = Axe().run(page)
    assert axe.violations_count == 0, axe.generate_report()
    with page.expect_download() as again:
        page.get_by_role("link", name="Download your data").click()
    again.value.save_as(tmp_path / "again.zip")
    assert zipfile.ZipFile(io.BytesIO((tmp_path / "again.zip").read_bytes())).namelist() \
        == archive.namelist()

    other = browser.new_context().new_page()
    log_in(other, live_server, "bob")
    response = other.goto(link)
    assert response.status == 404
    shot(other, "export-03-not-theirs")
