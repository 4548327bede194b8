"""CSV downloads, streamed: rows written as they are read, never a whole file in memory.

A download is a generator over a keyset-paged read (``keyset_items``: one page at a
time, each page's cursor asking for the next) turned into CSV lines by
``csv_response``, which streams them through ``flask.stream_with_context`` so that the
reads still run inside the request. Cells are formatted here, once for every download:
amounts as plain decimal strings (``csv_amount``: "12.50", "-3.00"; no symbol, no
thousands separator, so a spreadsheet reads a number), times as ISO 8601 with their
offset (``csv_time``: in the zone of the member downloading, as their pages show them;
any spreadsheet or parser reads the same instant back), and every text
cell guarded against formula injection (``csv_cell``: a cell a spreadsheet would run as
a formula gets a leading apostrophe), since titles and names are member-written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, tzinfo
from typing import Any

from flask import Response, current_app, stream_with_context

from .db import utcnow
from .pagination import Page
from .zones import current_zone

CSV_MIMETYPE = "text/csv; charset=utf-8"
# what a spreadsheet reads as the start of a formula (or of a cell it trims to one)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A text cell as written: ``None`` is empty; one that starts like a formula gets a
    leading apostrophe (OWASP's advice against CSV injection)."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def csv_amount(minor: int | None) -> str:
    """1250 → "12.50", -5 → "-0.05": a decimal string a spreadsheet reads as a number
    (written by us, never member text, so not guarded)."""
    if minor is None:
        return ""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}.{cents:02d}"


def csv_time(at: datetime | None, zone: tzinfo | None = None) -> str:
    """An aware datetime as ISO 8601 to the second, with its offset, in ``zone`` (by
    default the zone this request shows times in: the member's, ``core.zones``):
    "2026-12-03T15:10:00+09:00"."""
    if at is None:
        return ""
    return at.astimezone(zone or current_zone()).isoformat(timespec="seconds")


def keyset_items(read_page: Callable[[str | None], Page]) -> Iterator[Any]:
    """Every item of a keyset-paged read, a page at a time: ``read_page(cursor)`` is
    called with None, then with each page's ``next_cursor`` until there is none."""
    cursor = None
    while True:
        page = read_page(cursor)
        yield from page.items
        cursor = page.next_cursor
        if not cursor:
            return


def paged_csv(name: str, header: Sequence[str],
              read_page: Callable[[str | None, int], Page],
              to_row: Callable[[Any], Sequence[str]]) -> Response:
    """The streamed download of every item of a keyset-paged read, ``read_page(cursor,
    size)`` with ``CSV_PAGE_SIZE`` rows a page (``keyset_items``), each written as
    ``to_row(item)``, saved as ``<name>-<today>.csv``."""
    size = current_app.config["CSV_PAGE_SIZE"]
    items = keyset_items(lambda cursor: read_page(cursor, size))
    return csv_response(f"{name}-{utcnow().date().isoformat()}.csv", header,
                        (to_row(item) for item in items))


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[str]]
                 ) -> Response:
    """A streamed CSV download of ``rows`` (already formatted cells) under ``header``,
    saved as ``filename``. The rows are read while the response is sent, inside the
    request (``stream_with_context``), so pass a generator, not a list."""
    return Response(stream_with_context(csv_lines(header, rows)), content_type=CSV_MIMETYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[str]]) -> Iterator[str]:
    """``header`` then ``rows`` (already formatted cells) as CSV lines, one at a time:
    what a download streams, and what a file is written from."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in _with_header(header, rows):
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _with_header(header: Sequence[str], rows: Iterable[Sequence[str]]
                 ) -> Iterator[Sequence[str]]:
    yield header
    yield from rows
