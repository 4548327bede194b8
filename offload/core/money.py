"""Money at the boundary: text typed by a member to integer minor units, and back.

Inside the application money is always an ``int`` of minor units (cents): no floats
and no ``Decimal`` on the money path. Rates are basis points (1% = 100 bps).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from babel.numbers import format_currency, format_percent
from flask_babel import get_locale

from .errors import Invalid

# ASCII digits only (``\d`` and ``int()`` also read Arabic-Indic and full-width digits),
# commas only between groups of three, one point before the decimals
_AMOUNT = re.compile(r"(?P<whole>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.(?P<frac>[0-9]+))?")
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def parse_amount(text: str | None, *, max_minor: int, currency: str) -> int:
    """``"12.50"`` → 1250. Accepts ASCII digits, thousands commas, one decimal point and
    at most the symbol of the site's ``currency`` in front. Refuses empty, non-numbers,
    another currency's symbol, other scripts' digits, negatives, zero, more than two
    decimals and amounts over ``max_minor``, each with a message saying what is expected."""
    raw = (text or "").strip()
    symbol = SYMBOLS.get(currency)
    if symbol and raw.startswith(symbol):
        raw = raw[len(symbol):].lstrip()
    if not raw:
        raise Invalid("Enter an amount.")
    if raw.startswith("-"):
        raise Invalid("The amount must be positive.")
    match = _AMOUNT.fullmatch(raw)
    if not match:
        raise Invalid(_expected(raw, currency, symbol))
    frac = match["frac"] or ""
    if len(frac) > 2:
        raise Invalid("Use at most two decimals (for example 12.50).")
    whole = match["whole"].replace(",", "")
    if len(whole) > 15:  # far beyond any maximum; keeps the arithmetic small
        raise Invalid(f"The most you can enter is {format_amount(max_minor)}.")
    minor = int(whole) * 100 + int(frac.ljust(2, "0"))
    if minor == 0:
        raise Invalid("The amount must be more than zero.")
    if minor > max_minor:
        raise Invalid(f"The most you can enter is {format_amount(max_minor)}.")
    return minor


def _expected(raw: str, currency: str, symbol: str | None) -> str:
    """What was wrong with an amount that isn't one, and what is expected instead."""
    example = f"12.50 or {symbol}12.50" if symbol else "12.50"
    if any(unicodedata.category(c) == "Sc" and c != symbol for c in raw):
        return f"Amounts here are in {currency}: enter digits only, for example {example}."
    if any(unicodedata.category(c) == "Nd" and not c.isascii() for c in raw):
        return f"Use the digits 0–9, for example {example}."
    if re.fullmatch(r"[0-9]+,[0-9]{1,2}", raw):
        return f"Use a point before the cents, for example {example}."
    return f"Enter the amount as a number (digits and a point), for example {example}."


def format_amount(minor: int) -> str:
    """1250 → "12.50"; -5 → "-0.05"; thousands separated: 123456 → "1,234.56"."""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def format_money(minor: int, currency: str) -> str:
    symbol = SYMBOLS.get(currency)
    if symbol:
        sign = "-" if minor < 0 else ""
        return f"{sign}{symbol}{format_amount(abs(minor))}"
    return f"{format_amount(minor)} {currency}"


def display_money(minor: int, currency: str) -> str:
    """``format_money`` as a page or an e-mail shows it, written by Babel for the
    request's locale (English outside one): "$12.50", "-$12.50", "$1,234.56", and a
    currency without a symbol here as "12.50 CHF". The ``Decimal`` is for display only."""
    amount = Decimal(minor).scaleb(-2)
    pattern = "¤#,##0.00" if currency in SYMBOLS else "#,##0.00 ¤¤"
    return format_currency(amount, currency, format=pattern, currency_digits=False,
                           locale=get_locale() or "en")


def display_percent_bps(bps: int) -> str:
    """A rate in basis points as a page shows it, through Babel: 700 → "7%", 1250 →
    "12.5%", 5 → "0.05%"."""
    return format_percent(Decimal(bps).scaleb(-4), "#,##0.##%", locale=get_locale() or "en")


def share(amount_minor: int, rate_bps: int) -> int:
    """The part of ``amount_minor`` at ``rate_bps``, rounded down (integer arithmetic)."""
    return amount_minor * rate_bps // 10_000
