import pytest
from hypothesis import given
from hypothesis import strategies as st

from offload.core.errors import Invalid
from offload.core.money import format_amount, format_money, parse_amount

MAX = 1_000_000_00


@pytest.mark.parametrize("text, minor", [
    ("12.50", 1250), ("12.5", 1250), ("12", 1200), ("0.01", 1), (" 7.00 ", 700),
    ("1,234.56", 123456), ("$3.20", 320), ("1000000", MAX), ("$ 5", 500), ("12,345", 1234500),
])
def test_parses_amounts_to_minor_units(text, minor):
    assert parse_amount(text, max_minor=MAX, currency="USD") == minor


@pytest.mark.parametrize("text, message", [
    ("", "Enter an amount"), ("abc", "as a number"), ("-5", "positive"), ("0", "more than zero"),
    ("0.00", "more than zero"), ("1.234", "two decimals"), ("1000000.01", "most you can"),
    ("1e5", "as a number"), ("NaN", "as a number"), ("12.", "as a number"),
    ("99999999999999999999", "most you can"),
])
def test_refuses_bad_amounts_with_a_message(text, message):
    with pytest.raises(Invalid, match=message):
        parse_amount(text, max_minor=MAX, currency="USD")


@pytest.mark.parametrize("text, message", [
    # another currency's symbol is not a conversion
    ("€5", "in USD"), ("£5", "in USD"), ("5€", "in USD"), ("¥5", "in USD"),
    ("USD 5", "as a number"),
    # digits of other scripts, which \d and int() read as numbers
    ("٥", "digits 0–9"), ("١٢.٥٠", "digits 0–9"), ("５", "digits 0–9"), ("12.５", "digits 0–9"),
    ("۵", "digits 0–9"), ("५", "digits 0–9"),
    # one decimal separator; a comma only between groups of three
    ("1.2.3", "as a number"), ("12,50", "point"), ("1,,2", "as a number"), (",5", "as a number"),
    ("$$5", "as a number"), ("5$", "as a number"), ("5\x00", "as a number"),
    ("+5", "as a number"), ("5 5", "as a number"), (".5", "as a number"),
])
def test_refuses_anything_but_ascii_digits_a_point_and_the_sites_symbol(text, message):
    with pytest.raises(Invalid, match=message):
        parse_amount(text, max_minor=MAX, currency="USD")


def test_the_symbol_accepted_is_the_configured_currencys():
    assert parse_amount("€5", max_minor=MAX, currency="EUR") == 500
    with pytest.raises(Invalid, match="in EUR"):
        parse_amount("$5", max_minor=MAX, currency="EUR")
    assert parse_amount("5", max_minor=MAX, currency="CHF") == 500


@given(st.integers(min_value=1, max_value=MAX))
def test_format_then_parse_is_identity(minor):
    assert parse_amount(format_amount(minor), max_minor=MAX, currency="USD") == minor


def test_format_money():
    assert format_money(123456, "USD") == "$1,234.56"
    assert format_money(-5, "USD") == "-$0.05"
    assert format_money(100, "CHF") == "1.00 CHF"
