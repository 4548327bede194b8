"""Reading a record id sent with a request."""

from __future__ import annotations

import pytest

from offload.core.forms import ID_MAX, parse_id


@pytest.mark.parametrize("raw", ["1", "42", str(ID_MAX)])
def test_an_id_is_read(raw):
    assert parse_id(raw) == int(raw)


@pytest.mark.parametrize("raw", [
    "", "0", "-1", "+1", " 1", "1 ", "1.0", "1e3", "0x1", "1_000",
    "²", "١٢",  # digits to str.isdigit; int() refuses the first and reads the second
    str(ID_MAX + 1), "99999999999999999999", "0" * 11 + "1",
    None, 7, ["1"]])
def test_anything_else_is_none(raw):
    assert parse_id(raw) is None
