"""Profile photos re-encoded: metadata gone, square sizes, and what is refused."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from PIL import Image

from offload.core.errors import Invalid, InvalidField
from offload.core.images import photo_path, prepare_photo, square_jpegs
from tests.support.images import GPS_IFD, animated_bytes, flat_png, image_bytes, image_upload

SIZES = [256, 64]
MAX_PIXELS = 40_000_000


def opened(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def near(pixel, color, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, color, strict=True))


def test_a_camera_jpeg_loses_its_exif_and_gps_position():
    original = image_bytes("JPEG", gps=True)
    assert opened(original).getexif().get_ifd(GPS_IFD)  # the test photo does carry one
    for size, data in square_jpegs(original, SIZES, MAX_PIXELS).items():
        image = opened(data)
        assert image.format == "JPEG" and image.size == (size, size)
        assert not image.getexif() and "exif" not in image.info
        assert b"Exif" not in data and b"Spy Camera" not in data


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_become_square_jpegs_cropped_from_the_centre(fmt):
    # 300×200: red left half, blue right half; the centre square is half of each
    photos = square_jpegs(image_bytes(fmt, (300, 200)), SIZES, MAX_PIXELS)
    assert sorted(photos) == [64, 256]
    big = opened(photos[256]).convert("RGB")
    assert near(big.getpixel((10, 128)), (200, 30, 30))
    assert near(big.getpixel((245, 128)), (30, 30, 200))


def test_a_big_jpeg_is_decoded_at_a_reduced_scale_and_still_sharp():
    photos = square_jpegs(image_bytes("JPEG", (4000, 3000)), SIZES, MAX_PIXELS)
    big = opened(photos[256])
    assert big.size == (256, 256)
    assert near(big.getpixel((10, 128)), (200, 30, 30))
    assert near(big.getpixel((245, 128)), (30, 30, 200))


def test_the_exif_orientation_is_applied_before_it_is_dropped():
    # orientation 6: the camera was turned; shown upright the red half is on top
    big = opened(square_jpegs(image_bytes("JPEG", (300, 200), orientation=6),
                              SIZES, MAX_PIXELS)[256])
    assert near(big.getpixel((128, 10)), (200, 30, 30))
    assert near(big.getpixel((128, 245)), (30, 30, 200))


def test_transparency_becomes_white():
    data = image_bytes("PNG", (100, 100), mode="RGBA", color=(0, 0, 0, 0))
    big = opened(square_jpegs(data, SIZES, MAX_PIXELS)[256])
    assert near(big.getpixel((10, 128)), (255, 255, 255), tolerance=10)


# run in a fresh interpreter: its peak resident memory is then this photo's alone
PEAK_MEMORY = """
import resource, sys
from offload.core.images import square_jpegs
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
square_jpegs(data, [256, 64], 40_000_000)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is in kilobytes on Linux")
def test_a_small_png_of_many_pixels_is_shrunk_as_soon_as_it_is_decoded(tmp_path):
    # 16 megapixels of one colour: 69 KB uploaded, 64 MB decoded. Copying it whole
    # (upright, RGBA, a white background, RGB) took 170 MB; only the decoding may be big
    path = tmp_path / "flat.png"
    path.write_bytes(flat_png(4000, 4000))
    decoded = 4000 * 4000 * 4
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", PEAK_MEMORY, str(path)], cwd=root,
                          capture_output=True, text=True, check=True)
    assert int(done.stdout) < 1.5 * decoded


def test_a_panorama_keeps_its_centre_square_sharp():
    # 3000×400: red left half, blue right half; the square is the middle 400×400
    big = opened(square_jpegs(image_bytes("PNG", (3000, 400)), SIZES, MAX_PIXELS)[256])
    assert near(big.getpixel((10, 128)), (200, 30, 30))
    assert near(big.getpixel((245, 128)), (30, 30, 200))


def _png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width``×``height``: a decompression bomb's shape."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))


@pytest.mark.parametrize(("data", "message"), [
    (_png_header_only(60_000, 60_000), "too large"),  # Pillow's own limit refuses it
    (_png_header_only(6000, 6000), r"too large \(6000×6000 pixels\)"),  # ours
    (image_bytes("PNG", (2000, 1000)), "too large"),  # over this test's 1 MP
    (animated_bytes("PNG"), "Animated images"),
    (animated_bytes("WEBP"), "Animated images"),
    (image_bytes("JPEG")[:300], "damaged or incomplete"),
    (image_bytes("GIF"), "not a JPEG, PNG or WebP"),
    (b"<html><script>alert(1)</script></html>", "could not be read"),
])
def test_bombs_animations_damage_and_other_formats_are_refused(data, message):
    with pytest.raises(Invalid, match=message):
        square_jpegs(data, SIZES, 1_000_000)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_have_a_lower_pixel_cap_than_jpeg(fmt):
    # 300×200 = 60,000 pixels: over a PNG or WebP cap of 50,000, under the JPEG one
    with pytest.raises(Invalid, match=r"\(300×200 pixels\): a PNG or WebP may have at most"):
        square_jpegs(image_bytes(fmt), SIZES, 1_000_000, max_pixels_undrafted=50_000)
    assert square_jpegs(image_bytes("JPEG"), SIZES, 1_000_000, max_pixels_undrafted=50_000)


def test_pillows_own_bomb_limit_is_a_refusal_too(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # warns above, refuses at twice
    with pytest.raises(Invalid, match="too large"):
        square_jpegs(image_bytes("PNG", (40, 40)), SIZES, MAX_PIXELS)


@pytest.mark.parametrize(("data", "filename", "message"), [
    (b"<html>hello</html>", "me.jpg", "not a JPG file"),  # a page disguised by its name
    (image_bytes("PNG"), "me.jpg", "not a JPG file"),
    (image_bytes("JPEG"), "me.gif", "Only these file types"),
    (image_bytes("JPEG"), "me.pdf", "Only these file types"),
])
def test_a_photo_upload_is_checked_by_name_and_content(app, data, filename, message):
    with app.test_request_context(), pytest.raises(InvalidField, match=message) as e:
        prepare_photo(image_upload(data, filename))
    assert e.value.field == "photo"


def test_a_photo_upload_over_the_byte_limit_is_refused(app):
    app.config["PHOTO_MAX_BYTES"] = 1000
    try:
        with app.test_request_context(), pytest.raises(InvalidField, match="larger than"):
            prepare_photo(image_upload(image_bytes("PNG", (400, 400)), "big.png"))
    finally:
        app.config["PHOTO_MAX_BYTES"] = 8 * 1024 * 1024


def test_photo_paths_take_only_generated_versions(app):
    with app.test_request_context():
        assert photo_path("ab12", 64).name == "ab12-64.jpg"
        for bad in ("../etc", "a/b", ".hidden", ""):
            with pytest.raises(Invalid):
                photo_path(bad, 64)
