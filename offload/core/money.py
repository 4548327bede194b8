"""Money at the boundary: text typed by a member to integer minor units, and back.

Inside the application money is always an ``int`` of minor units (cents): no floats
and no ``Decimal`` on the money path. Rates are basis points (1% = 100 bps).
"""

from __future__ import annotations

import re

from .errors import Invalid

_AMOUNT = re.compile(r"^(?P<whole>\d+)(?:\.(?P<frac>\d{1,2}))?$")
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def parse_amount(text: str | None, *, max_minor: int) -> int:
    """``"12.50"`` → 1250. Refuses empty, non-numbers, negatives, zero, more than two
    decimals and amounts over ``max_minor``, each with a message for the member."""
    raw = (text or "").strip().replace(",", "")
    if raw.startswith(tuple(SYMBOLS.values())):
        raw = raw[1:].strip()
    if not raw:
        raise Invalid("Enter an amount.")
    if raw.startswith("-"):
        raise Invalid("The amount must be positive.")
    match = _AMOUNT.match(raw)
    if not match:
        if re.match(r"^\d+\.\d{3,}$", raw):
            raise Invalid("Use at most two decimals (for example 12.50).")
        raise Invalid("Enter the amount as a number, for example 12.50.")
    whole = match["whole"]
    if len(whole) > 15:  # far beyond any maximum; keeps the arithmetic small
        raise Invalid(f"The most you can enter is {format_amount(max_minor)}.")
    minor = int(whole) * 100 + int((match["frac"] or "0").ljust(2, "0"))
    if minor == 0:
        raise Invalid("The amount must be more than zero.")
    if minor > max_minor:
        raise Invalid(f"The most you can enter is {format_amount(max_minor)}.")
    return minor


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


def share(amount_minor: int, rate_bps: int) -> int:
    """The part of ``amount_minor`` at ``rate_bps``, rounded down (integer arithmetic)."""
    return amount_minor * rate_bps // 10_000
