"""Real image files made with Pillow for upload tests: a camera JPEG with a GPS
position, transparent PNGs, animations, and an image that would inflate to too many
pixels."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image
from werkzeug.datastructures import FileStorage

GPS_IFD = 0x8825
MAKE = 0x010F
ORIENTATION = 0x0112
# where the test "photo" was taken: a real-looking position, so its absence is meaningful
GPS = {1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)}


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (300, 200), *,
                mode: str = "RGB", color=(200, 30, 30), gps: bool = False,
                orientation: int | None = None) -> bytes:
    """An image of ``size`` in ``fmt``; ``gps`` adds EXIF with a camera make and a
    GPS position (JPEG and WebP), ``orientation`` an EXIF orientation."""
    image = Image.new(mode, size, color)
    # a different right half, so a centre crop and a rotation are visible in the pixels
    image.paste((30, 30, 200) if mode == "RGB" else (30, 30, 200, 255),
                (size[0] // 2, 0, size[0], size[1]))
    out = io.BytesIO()
    kwargs = {}
    if gps or orientation:
        exif = Image.Exif()
        if gps:
            exif[MAKE] = "Spy Camera Co"
            exif[GPS_IFD] = GPS
        if orientation:
            exif[ORIENTATION] = orientation
        kwargs["exif"] = exif.tobytes()
    image.save(out, fmt, **kwargs)
    return out.getvalue()


def animated_bytes(fmt: str = "PNG", frames: int = 3) -> bytes:
    images = [Image.new("RGB", (40, 40), (i * 80, 0, 0)) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, fmt, save_all=True, append_images=images[1:], duration=100)
    return out.getvalue()


def image_upload(data: bytes | None = None, filename: str = "me.jpg") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data if data is not None else image_bytes()),
                       filename=filename)


def flat_png(width: int, height: int, rgba=(10, 120, 200, 255)) -> bytes:
    """A one-colour RGBA PNG, written row by row so making it takes no memory: a
    40-megapixel one is 170 KB, the shape of an upload that inflates after decoding."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    packer = zlib.compressobj(9)
    row = b"\x00" + bytes(rgba) * width  # filter type 0, then the pixels
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", pixels) + chunk(b"IEND", b""))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


# a valid 1x1 RGB PNG, so content checks see a real image
PNG = (b"\x89PNG\r\n\x1a\n"
       + _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
       + _chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
       + _chunk(b"IEND", b""))
