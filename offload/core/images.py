"""Profile photos: an uploaded image checked, re-encoded and stored in sizes.

Nothing of the upload is kept: the pixels are decoded (after checking the header's
size, so a small file that inflates to gigabytes is refused before it is decoded),
turned upright by their EXIF orientation, cropped to the centre square and written
as new JPEGs without any metadata, so EXIF, GPS positions, comments and colour
profiles are gone, and a file that only pretends to be an image never reaches a page.
The files are ``<version>-<size>.jpg`` in ``UPLOAD_FOLDER``; ``version`` is random
and new for every photo, so a URL naming it can be cached for good.
"""

from __future__ import annotations

import io
import secrets
import warnings
from pathlib import Path

from flask import current_app
from PIL import ExifTags, Image, UnidentifiedImageError
from werkzeug.datastructures import FileStorage

from .db import on_rollback
from .errors import Invalid, InvalidField
from .uploads import check_upload, upload_dir

# what Pillow must find in the file for each allowed extension
_FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}
# cameras' multi-picture JPEGs: the first picture is the photo, the rest previews
_MULTI_PICTURE = "MPO"
JPEG_QUALITY = 85
# pixels in each strip of the picture processed at once (4 MB as RGBA)
_STRIP_PIXELS = 1_000_000
# EXIF orientation → the turn that shows the picture upright (as ImageOps.exif_transpose)
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def photo_path(version: str, size: int) -> Path:
    # versions are generated here (hex); refuse anything else defensively
    if not version.isalnum() or not version.isascii():
        raise Invalid("bad photo version")
    return upload_dir() / f"{version}-{int(size)}.jpg"


def square_jpegs(data: bytes, sizes: list[int], max_pixels: int, *,
                 max_pixels_undrafted: int | None = None) -> dict[int, bytes]:
    """The image in ``data`` as square JPEGs, one per size; raises ``Invalid`` for
    anything that is not a single still JPEG, PNG or WebP within ``max_pixels``, or
    within ``max_pixels_undrafted`` (when lower) for a PNG or WebP."""
    with warnings.catch_warnings():
        # Pillow only warns between its own limit and twice it: make that a refusal too
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                if image.format not in (*_FORMATS.values(), _MULTI_PICTURE):
                    raise Invalid("The file is not a JPEG, PNG or WebP image.")
                width, height = image.size
                if width * height > max_pixels:
                    raise Invalid(f"The image is too large ({width}×{height} pixels): use "
                                  f"one of at most {max_pixels // 1_000_000} megapixels.")
                drafted = image.format in ("JPEG", _MULTI_PICTURE)
                # a PNG or WebP is decoded whole (a JPEG at up to 1/8 scale), up to 4
                # bytes a pixel, from a file that may be a few KB: a lower cap for them
                if (not drafted and max_pixels_undrafted is not None
                        and width * height > max_pixels_undrafted):
                    raise Invalid(
                        f"The image is too large ({width}×{height} pixels): a PNG or WebP "
                        f"may have at most {max_pixels_undrafted // 1_000_000} megapixels "
                        f"(a JPEG {max_pixels // 1_000_000}).")
                if image.format != _MULTI_PICTURE and getattr(image, "n_frames", 1) > 1:
                    raise Invalid("Animated images can't be profile photos: choose a still "
                                  "image.")
                if drafted:
                    # decode at the smallest JPEG scale still at least as big as needed:
                    # a 40-megapixel photo then takes a few MB, not 120
                    image.draft("RGB", (max(sizes), max(sizes)))
                image.load()
                # a PNG or WebP is decoded whole; every copy after that is of a strip of
                # it or of the small square, never of the whole picture again
                orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
                square = _centre_square(image, 2 * max(sizes))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
            raise Invalid(f"The image is too large: use one of at most "
                          f"{max_pixels // 1_000_000} megapixels.") from e
        except UnidentifiedImageError as e:
            raise Invalid("The file could not be read as an image.") from e
        except (OSError, SyntaxError, ValueError) as e:  # truncated or corrupt data
            raise Invalid("The image is damaged or incomplete.") from e
    if orientation in _UPRIGHT:
        square = square.transpose(_UPRIGHT[orientation])
    result = {}
    for size in sizes:
        resized = square.resize((size, size), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        # no exif=, icc_profile= or comment: the new file carries pixels only
        resized.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
        result[size] = out.getvalue()
    return result


def _centre_square(image: Image.Image, side_wanted: int) -> Image.Image:
    """The centre square of a decoded image as RGB on white, shrunk by a whole factor
    to no less than ``side_wanted`` pixels a side (or left as it is if smaller).

    It is made strip by strip, so the only full-size copy is the decoded image itself:
    cropping, converting, flattening and reducing the whole picture at once would make
    several (a flat PNG of 170 KB would take half a gigabyte). Flattening on white
    before averaging gives the same pixels as averaging with the alpha channel and
    flattening after.
    """
    width, height = image.size
    factor = max(1, min(width, height) // side_wanted)
    side = min(width, height) // factor * factor  # whole blocks of factor × factor
    left, top = (width - side) // 2, (height - side) // 2
    rows = max(1, _STRIP_PIXELS // side // factor) * factor
    square = Image.new("RGB", (side // factor, side // factor))
    for y in range(0, side, rows):
        strip = image.crop((left, top + y, left + side, top + min(y + rows, side)))
        square.paste(_flatten(strip).reduce(factor), (0, y // factor))
    return square


def _flatten(image: Image.Image) -> Image.Image:
    """RGB pixels; transparent parts become white (JPEG has no transparency)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P"
                                                and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def prepare_photo(storage: FileStorage, field: str = "photo") -> dict[int, bytes]:
    """Check and re-encode an uploaded photo: its JPEG bytes for each of PHOTO_SIZES.

    Types, size and pixels: PHOTO_TYPES, PHOTO_MAX_BYTES, PHOTO_MAX_PIXELS (and
    PHOTO_MAX_PIXELS_UNDRAFTED for a PNG or WebP); a bad
    file is ``InvalidField`` on the form's ``field``. Pure work on bytes: callers do
    it before their transaction, so no lock is held while an image is decoded.
    """
    config = current_app.config
    try:
        data, _ = check_upload(storage, config["PHOTO_TYPES"], config["PHOTO_MAX_BYTES"])
        return square_jpegs(data, config["PHOTO_SIZES"], config["PHOTO_MAX_PIXELS"],
                            max_pixels_undrafted=config["PHOTO_MAX_PIXELS_UNDRAFTED"])
    except Invalid as e:
        raise InvalidField(field, str(e)) from e


def store_photo(images: dict[int, bytes]) -> str:
    """Write a prepared photo for a row written in the current transaction; returns its
    new version. The files are removed again if the transaction rolls back."""
    version = secrets.token_hex(16)
    on_rollback(lambda: remove_photo_files(version))
    for size, jpeg in images.items():
        photo_path(version, size).write_bytes(jpeg)
    return version


def remove_photo_files(version: str) -> None:
    for size in current_app.config["PHOTO_SIZES"]:
        photo_path(version, size).unlink(missing_ok=True)
