"""Fixtures for the profile tests: real file bytes and a SQL statement counter."""

from __future__ import annotations

import struct
import zlib

from tests.support.factories import PDF, upload  # noqa: F401  (importable here)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


# a valid 1x1 RGB PNG, so content checks see a real image
PNG = (b"\x89PNG\r\n\x1a\n"
       + _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
       + _chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
       + _chunk(b"IEND", b""))
