"""CSV cells: amounts as decimal strings, ISO times in UTC, formula injection guarded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from offload.core.csv_export import csv_amount, csv_cell, csv_time, keyset_items
from offload.core.pagination import Page


@pytest.mark.parametrize("text", ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\rx",
                                  '=HYPERLINK("http://evil.example","x")'])
def test_a_cell_that_starts_like_a_formula_gets_an_apostrophe(text):
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["Deposit", "a=b", "1+1", "", "'quoted", "Zoë's gig"])
def test_other_cells_are_left_as_written(text):
    assert csv_cell(text) == text


def test_none_is_an_empty_cell():
    assert csv_cell(None) == "" and csv_amount(None) == "" and csv_time(None) == ""


@pytest.mark.parametrize(("minor", "written"), [(1250, "12.50"), (5, "0.05"), (0, "0.00"),
                                                (-5, "-0.05"), (-300, "-3.00"),
                                                (123_456_78, "123456.78")])
def test_amounts_are_plain_decimal_strings(minor, written):
    assert csv_amount(minor) == written


def test_times_are_iso_in_utc_to_the_second_and_take_a_zone():
    at = datetime(2026, 12, 3, 6, 10, 5, 999, tzinfo=UTC)
    assert csv_time(at) == "2026-12-03T06:10:05+00:00"
    assert csv_time(at.astimezone(timezone(timedelta(hours=2)))) == "2026-12-03T06:10:05+00:00"
    assert csv_time(at, timezone(timedelta(hours=-5))) == "2026-12-03T01:10:05-05:00"


def test_keyset_items_reads_a_page_at_a_time_as_it_is_consumed():
    pages = {None: Page([1, 2], "a", True), "a": Page([3, 4], "b", False),
             "b": Page([5], None, False)}
    asked = []

    def read(cursor):
        asked.append(cursor)
        return pages[cursor]

    items = keyset_items(read)
    assert asked == []  # nothing read before the first row is asked for
    assert next(items) == 1 and asked == [None]
    assert list(items) == [2, 3, 4, 5] and asked == [None, "a", "b"]
