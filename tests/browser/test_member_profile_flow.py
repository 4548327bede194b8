"""A developer who takes on work signs up from an invite and is logged in at once, with
a dashboard that leads with offers, projects and stars; sets a photo (its GPS position
gone) and sees it on the profile; member search filters by what members do."""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from offload.invites.services import send_invite
from tests.support.factories import PASSWORD
from tests.support.images import GPS_IFD, image_bytes
from tests.support.smtp import first_link

pytestmark = pytest.mark.browser


def test_sign_up_taking_on_work_set_a_photo_and_find_members_by_what_they_do(
        browser, live_server, make_member, smtp, shot, tmp_path):
    inviter = make_member("ines", display_name="Ines Inviter", work_role="pass_on")
    make_member("petra", display_name="Petra Passer", work_role="pass_on")
    make_member("boris", display_name="Boris Both")  # does both: found either way
    send_invite(actor=inviter, email="tom@example.com",
                vouch_note="Tom ships Django apps on time.")
    invite_link = first_link(smtp.wait_for("tom@example.com", "invited you"))

    page = browser.new_context().new_page()
    page.goto(invite_link)
    page.get_by_label("Username").fill("tom")
    page.get_by_label("Your name").fill("Tom Taker")
    page.get_by_label("Password").fill(PASSWORD)
    expect(page.get_by_label("Both: I pass on work and take it on")).to_be_checked()
    page.get_by_label("I mainly take on work").check()
    shot(page, "member-01-signup")
    page.get_by_role("button", name="Create my account").click()

    # logged in at once, on a dashboard that leads with the work taken on
    expect(page.get_by_role("heading", name="Hello, Tom Taker")).to_be_visible()
    expect(page.get_by_text("Welcome to Offload, Tom Taker")).to_be_visible()
    sides = page.locator("#taking-on, #passing-on")
    expect(sides.first).to_have_attribute("id", "taking-on")
    for heading in ("Your offers", "Your projects", "Your stars"):
        expect(page.locator("#taking-on").get_by_role("heading", name=heading)).to_be_visible()
    shot(page, "member-02-dashboard")

    confirm_link = first_link(smtp.wait_for("tom@example.com", "Confirm your e-mail"))
    page.goto(confirm_link)
    page.get_by_role("button", name=re.compile("Confirm tom@example.com")).click()
    expect(page.get_by_text("tom@example.com is confirmed")).to_be_visible()

    # a photo: a file that only looks like one is refused, a camera JPEG is taken
    page.get_by_role("link", name="Edit your profile").click()
    expect(page.locator("#photo .avatar")).to_have_text("T")  # the initial until then
    fake = tmp_path / "holiday.jpg"
    fake.write_text("<html>not a photo</html>")
    page.get_by_label("Choose a photo").set_input_files(str(fake))
    page.get_by_role("button", name="Upload photo").click()
    expect(page.get_by_text("The file's content is not a JPG file.")).to_be_visible()
    shot(page, "member-03-photo-refused")
    photo = tmp_path / "me.jpg"
    photo.write_bytes(image_bytes("JPEG", (900, 600), gps=True))
    page.get_by_label("Choose a photo").set_input_files(str(photo))
    page.get_by_role("button", name="Upload photo").click()
    expect(page.get_by_text("Your photo is saved.")).to_be_visible()
    expect(page.get_by_role("heading", name="Tom Taker")).to_be_visible()
    avatar = page.locator("img.avatar-large")
    expect(avatar).to_be_visible()
    expect(page.get_by_text("Mainly takes on work")).to_be_visible()
    assert avatar.evaluate("img => img.complete && img.naturalWidth") == 256
    served = page.request.get(live_server + avatar.get_attribute("src"))
    assert served.ok and "immutable" in served.headers["cache-control"]
    assert not Image.open(io.BytesIO(served.body())).getexif().get_ifd(GPS_IFD)
    shot(page, "member-04-profile-photo")

    # member search by what members do: those who take on work, and those who do both
    page.get_by_role("link", name="Members", exact=True).click()
    page.get_by_label("What they do").select_option("take_on")
    page.get_by_role("button", name="Find members").click()
    results = page.get_by_role("region", name="Members")
    expect(results.get_by_role("link", name="Tom Taker")).to_be_visible()
    expect(results.get_by_role("link", name="Boris Both")).to_be_visible()
    expect(results.get_by_role("link", name="Petra Passer")).to_have_count(0)
    expect(results.locator("img.avatar")).to_have_count(1)  # Tom's photo; the others' initials
    shot(page, "member-05-search-take-on")
    page.get_by_label("What they do").select_option("pass_on")
    page.get_by_role("button", name="Find members").click()
    expect(results.get_by_role("link", name="Petra Passer")).to_be_visible()
    expect(results.get_by_role("link", name="Tom Taker")).to_have_count(0)
