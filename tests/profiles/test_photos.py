"""Profile photos: uploading, replacing and removing one, and serving it to members."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import select

from offload.core.db import db, utcnow
from offload.core.errors import InvalidField
from offload.core.images import photo_path
from offload.core.uploads import upload_dir
from offload.profiles import services
from offload.profiles.models import Profile
from tests.support.app import make_app
from tests.support.factories import PASSWORD
from tests.support.images import animated_bytes, flat_png, image_bytes, image_upload


def photo_version(user) -> str | None:
    return db.session.scalar(select(Profile.photo_version).where(Profile.user_id == user.id))


def files() -> set[str]:
    return {p.name for p in upload_dir().iterdir()}


@pytest.fixture
def alice(make_member, login):
    user = make_member("alice", display_name="Alice")
    login(user)
    return user


# --- services ---------------------------------------------------------------------------

def test_a_photo_is_stored_in_both_sizes_and_a_new_one_replaces_it(app, make_member):
    alice = make_member("alice")
    first = services.set_profile_photo(actor=alice, file_storage=image_upload()).photo_version
    assert files() >= {f"{first}-256.jpg", f"{first}-64.jpg"}
    second = services.set_profile_photo(
        actor=alice, file_storage=image_upload(image_bytes("PNG"), "me.png")).photo_version
    assert second != first and photo_version(alice) == second
    assert f"{first}-256.jpg" not in files() and f"{second}-64.jpg" in files()
    services.remove_profile_photo(actor=alice)
    assert photo_version(alice) is None and not any(second in name for name in files())


def test_a_refused_photo_changes_nothing(app, make_member):
    alice = make_member("alice")
    version = services.set_profile_photo(actor=alice, file_storage=image_upload()).photo_version
    before = files()
    with pytest.raises(InvalidField, match="Animated"):
        services.set_profile_photo(actor=alice,
                                   file_storage=image_upload(animated_bytes(), "a.png"))
    assert photo_version(alice) == version and files() == before


def test_the_photo_files_go_if_the_transaction_fails(app, make_member, monkeypatch):
    alice = make_member("alice")
    before = files() if upload_dir().exists() else set()

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "utcnow", fail)  # after the files are written
    with pytest.raises(RuntimeError):
        services.set_profile_photo(actor=alice, file_storage=image_upload())
    assert files() == before and photo_version(alice) is None


# --- pages ------------------------------------------------------------------------------

def test_upload_a_photo_and_see_it_on_the_profile_and_in_the_member_list(client, alice):
    page = client.get("/members/alice").get_data(as_text=True)
    assert re.search(r'<div class="avatar avatar-large" aria-hidden="true">A</div>', page)
    response = client.post("/profile/photo", content_type="multipart/form-data",
                           data={"photo-photo": image_upload(image_bytes(gps=True))})
    assert response.status_code == 302 and response.location == "/members/alice"
    version = photo_version(alice)
    page = client.get("/members/alice").get_data(as_text=True)
    assert f'src="/members/alice/photo/{version}/256.jpg"' in page
    listing = client.get("/members").get_data(as_text=True)
    assert f'src="/members/alice/photo/{version}/64.jpg"' in listing
    assert f"/members/alice/photo/{version}/256.jpg 2x" in listing


def test_the_photo_is_served_to_members_with_long_cache_headers(client, alice, make_member,
                                                                 login):
    services.set_profile_photo(actor=alice, file_storage=image_upload(image_bytes(gps=True)))
    version = photo_version(alice)
    login(make_member("bob"))  # any member may see it, as they see profiles
    response = client.get(f"/members/alice/photo/{version}/256.jpg")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    cache = response.headers["Cache-Control"]
    assert "immutable" in cache and "max-age=31536000" in cache and "private" in cache
    assert "no-store" not in cache and "public" not in cache
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    image = Image.open(io.BytesIO(response.get_data()))
    assert image.size == (256, 256) and not image.getexif()
    # other member pages are still never stored
    assert client.get("/members/alice").headers["Cache-Control"] == "no-store"


def test_only_the_current_version_and_known_sizes_are_served(client, alice):
    services.set_profile_photo(actor=alice, file_storage=image_upload())
    old = photo_version(alice)
    services.set_profile_photo(actor=alice, file_storage=image_upload())
    new = photo_version(alice)
    assert client.get(f"/members/alice/photo/{new}/64.jpg").status_code == 200
    assert client.get(f"/members/alice/photo/{old}/64.jpg").status_code == 404
    assert client.get(f"/members/alice/photo/{new}/128.jpg").status_code == 404
    assert client.get(f"/members/nobody/photo/{new}/64.jpg").status_code == 404
    photo_path(new, 64).unlink()
    assert client.get(f"/members/alice/photo/{new}/64.jpg").status_code == 404


def test_visitors_must_log_in_to_see_a_photo(client, make_member):
    alice = make_member("alice")
    services.set_profile_photo(actor=alice, file_storage=image_upload())
    response = client.get(f"/members/alice/photo/{photo_version(alice)}/64.jpg")
    assert response.status_code == 302 and response.location.startswith("/login")


@pytest.mark.parametrize(("data", "filename", "message"), [
    (b"<html>not a photo</html>", "me.jpg", "not a JPG file"),
    (animated_bytes("PNG"), "moving.png", "Animated images can"),
    (image_bytes("JPEG"), "me.gif", "Only these file types are accepted: JPG, PNG, WEBP."),
    (flat_png(5000, 4000), "flat.png", "a PNG or WebP may have at most 16 megapixels"),
])
def test_a_bad_photo_is_refused_on_the_form(client, alice, data, filename, message):
    response = client.post("/profile/photo", content_type="multipart/form-data",
                           data={"photo-photo": image_upload(data, filename)})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and 'id="photo-photo-error"' in page
    assert photo_version(alice) is None


def test_uploading_without_a_file_says_so(client, alice):
    response = client.post("/profile/photo", content_type="multipart/form-data", data={})
    assert response.status_code == 422
    assert "Choose a photo to upload." in response.get_data(as_text=True)


def test_remove_the_photo_and_the_initial_shows_again(client, alice):
    services.set_profile_photo(actor=alice, file_storage=image_upload())
    assert "Remove photo" in client.get("/profile/edit").get_data(as_text=True)
    response = client.post("/profile/photo/delete")
    assert response.status_code == 302 and response.location == "/profile/edit#photo"
    assert photo_version(alice) is None
    page = client.get("/members/alice").get_data(as_text=True)
    assert '<div class="avatar avatar-large" aria-hidden="true">A</div>' in page
    again = client.post("/profile/photo/delete", follow_redirects=True)
    assert "You have no profile photo to remove." in again.get_data(as_text=True)


def test_uploads_are_rate_limited_per_member(app, tmp_path, make_member):
    limited = make_app(tmp_path, PHOTO_LIMIT="2 per minute",
                       SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"])
    make_member("alice")
    make_member("bob")
    client = limited.test_client()

    def upload(data=None, filename="me.jpg"):
        return client.post("/profile/photo", content_type="multipart/form-data",
                           data={"photo-photo": image_upload(data, filename)}).status_code

    assert client.post("/login", data={"login": "alice", "password": PASSWORD}).status_code == 302
    # a refused file costs an attempt too: it was decoded all the same
    assert [upload(), upload(animated_bytes(), "a.png"), upload()] == [302, 422, 429]
    client.post("/logout")
    assert client.post("/login", data={"login": "bob", "password": PASSWORD}).status_code == 302
    assert upload() == 302  # from the same address


def test_a_suspended_members_photo_is_no_longer_served(client, make_member, login):
    alice = make_member("alice", display_name="Alice")
    services.set_profile_photo(actor=alice, file_storage=image_upload())
    url = f"/members/alice/photo/{photo_version(alice)}/256.jpg"
    login(make_member("bob"))
    assert client.get(url).status_code == 200
    alice.suspended_at = utcnow()
    db.session.commit()
    assert client.get(url).status_code == 404
    # her page, still shown with its "Suspended" mark, shows her initial instead
    page = client.get("/members/alice").get_data(as_text=True)
    assert url not in page and '<div class="avatar avatar-large" aria-hidden="true">A</div>' in page


def test_an_unconfirmed_members_photo_is_shown_to_them_alone(client, make_member, login):
    carol = make_member("carol", display_name="Carol", confirmed=False)
    services.set_profile_photo(actor=carol, file_storage=image_upload())
    url = f"/members/carol/photo/{photo_version(carol)}/256.jpg"
    login(carol)
    assert client.get(url).status_code == 200
    assert f'src="{url}"' in client.get("/members/carol").get_data(as_text=True)
    assert f'src="{url}"' in client.get("/profile/edit").get_data(as_text=True)
    login(make_member("bob"))
    assert client.get(url).status_code == 404
    assert url not in client.get("/members/carol").get_data(as_text=True)
