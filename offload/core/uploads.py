"""Uploaded files: checked by size, extension and content, stored under generated names.

Files live in ``UPLOAD_FOLDER`` (outside the static folder) and are only ever
served through an authorized route, as attachments with ``nosniff``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import filetype
from flask import Flask, Response, abort, current_app, request, send_file
from sqlalchemy import Select, String, bindparam, select
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.datastructures import FileStorage

from .db import db, on_rollback
from .errors import Invalid, InvalidField

# extension -> the MIME type its content must be detected as
KNOWN_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
}
# detected types that are a kind of an allowed one (an animated PNG is a PNG)
_KIND_OF = {"image/apng": "image/png"}


@dataclass(frozen=True)
class StoredFile:
    stored_name: str
    original_name: str
    content_type: str
    size_bytes: int

    def columns(self) -> dict:
        """The values for a ``StoredFileColumns`` row."""
        return {"stored_name": self.stored_name, "original_name": self.original_name,
                "content_type": self.content_type, "size_bytes": self.size_bytes}


class StoredFileColumns:
    """The columns of a row that names a stored upload (mixed into its model); serve it
    with ``send_stored_file(row.stored_name, row.content_type, row.original_name)``."""

    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    original_name: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int]


class FileLine(NamedTuple):
    """A stored file as a page lists it (a link to download it and its size): the read
    model of a row with StoredFileColumns."""

    id: int
    original_name: str
    size_bytes: int


@lru_cache(maxsize=8)
def _file_lines_statement(model: type, owner: str) -> Select:
    # built once per table; parameter: ids (of the owners)
    owner_id = getattr(model, owner)
    return (select(owner_id, model.id, model.original_name, model.size_bytes)
            .where(owner_id.in_(bindparam("ids", expanding=True))).order_by(model.id))


def file_lines_of(model: type, owner: str, owner_ids: list[int]
                  ) -> dict[int, tuple[FileLine, ...]]:
    """The files of each of ``owner_ids`` (rows of ``model``, whose column ``owner``
    names what they were sent with), oldest first; one query."""
    files: dict[int, list[FileLine]] = {}
    for owner_id, *line in db.session.execute(_file_lines_statement(model, owner),
                                              {"ids": owner_ids}):
        files.setdefault(owner_id, []).append(FileLine(*line))
    return {owner_id: tuple(lines) for owner_id, lines in files.items()}


def init_request_limits(app: Flask) -> None:
    """Let the endpoints in MAX_CONTENT_LENGTH_BY_ENDPOINT take larger bodies than
    MAX_CONTENT_LENGTH. Register before CSRFProtect: it reads the form, and the limit
    must be set before anything parses the body."""

    @app.before_request
    def _endpoint_request_limit() -> None:
        limit = app.config["MAX_CONTENT_LENGTH_BY_ENDPOINT"].get(request.endpoint)
        if limit:
            request.max_content_length = limit


def upload_dir() -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def _clean_name(name: str) -> str:
    name = Path(name.replace("\\", "/")).name.strip()
    return "".join(c for c in name if c.isprintable())[:200] or "file"


def check_upload(storage: FileStorage, allowed: list[str], max_bytes: int) -> tuple[bytes, str]:
    """Return the bytes and MIME type of an acceptable upload, or raise ``Invalid``."""
    original = _clean_name(storage.filename or "")
    ext = original.rsplit(".", 1)[-1].lower() if "." in original else ""
    if ext == "jpeg":
        ext = "jpg"
    allowed_names = ", ".join(a.upper() for a in allowed)
    if ext not in allowed or ext not in KNOWN_TYPES:
        raise Invalid(f"Only these file types are accepted: {allowed_names}.")
    storage.stream.seek(0)  # a re-run transaction (or a second check) reads it again
    data = storage.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise Invalid(f"The file is larger than the limit of {_size(max_bytes)}.")
    if not data:
        raise Invalid("The file is empty.")
    kind = filetype.guess(data)
    mime = _KIND_OF.get(kind.mime, kind.mime) if kind else None
    if mime != KNOWN_TYPES[ext]:
        raise Invalid(f"The file's content is not a {ext.upper()} file.")
    return data, mime


def store_upload(storage: FileStorage, allowed: list[str], max_bytes: int) -> StoredFile:
    data, mime = check_upload(storage, allowed, max_bytes)
    original = _clean_name(storage.filename or "")
    ext = original.rsplit(".", 1)[-1].lower()
    stored_name = f"{secrets.token_hex(16)}.{ext}"
    (upload_dir() / stored_name).write_bytes(data)
    return StoredFile(stored_name, original, mime, len(data))


def store_document(storage: FileStorage, field: str = "file") -> StoredFile:
    """Store an uploaded document for a row written in the current transaction.

    The file is written first (the row needs its generated name) and deleted again if
    the transaction rolls back, so no file outlives its row's rollback. Types and
    size: DOCUMENT_TYPES and DOCUMENT_MAX_BYTES; a bad file is ``InvalidField`` on the
    form's ``field``.
    """
    config = current_app.config
    try:
        stored = store_upload(storage, config["DOCUMENT_TYPES"], config["DOCUMENT_MAX_BYTES"])
    except Invalid as e:
        raise InvalidField(field, str(e)) from e
    on_rollback(lambda: stored_path(stored.stored_name).unlink(missing_ok=True))
    return stored


def stored_path(stored_name: str) -> Path:
    # stored names are generated by us; refuse anything else defensively
    if "/" in stored_name or "\\" in stored_name or stored_name.startswith("."):
        raise Invalid("bad file name")
    return upload_dir() / stored_name


def send_stored_file(stored_name: str, content_type: str, download_name: str) -> Response:
    """Serve a stored upload as a download with nosniff, so the browser saves it and never
    renders it as one of our pages; 404 when the name is bad or the file is gone.
    The caller has already checked that the viewer may have it."""
    try:
        path = stored_path(stored_name)
    except Invalid:
        abort(404)
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype=content_type, as_attachment=True,
                         download_name=download_name)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
