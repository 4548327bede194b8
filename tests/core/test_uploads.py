import io

import pytest
from werkzeug.datastructures import FileStorage

from offload.core.errors import Invalid
from offload.core.uploads import store_upload, stored_path

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000a49444154789c63000100000500010d0a2db40000000049454e44ae426082")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _file(data: bytes, name: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name)


def test_accepts_matching_content_and_stores_under_a_generated_name(app):
    stored = store_upload(_file(PNG, "../../me.png"), ["png", "pdf"], 1024)
    assert stored.original_name == "me.png" and stored.content_type == "image/png"
    assert stored.stored_name != "me.png" and stored_path(stored.stored_name).read_bytes() == PNG


@pytest.mark.parametrize("data, name, message", [
    (PNG, "me.exe", "Only these file types"),
    (b"just text", "cv.pdf", "not a PDF"),
    (PDF, "cv.png", "not a PNG"),
    (b"", "empty.pdf", "empty"),
    (PDF * 100, "big.pdf", "larger than"),
])
def test_refuses_bad_uploads(app, data, name, message):
    with pytest.raises(Invalid, match=message):
        store_upload(_file(data, name), ["png", "pdf"], 1000)


def test_stored_path_refuses_traversal(app):
    with pytest.raises(Invalid):
        stored_path("../etc/passwd")
