"""Currencies a service can be priced in, and how amounts in them read.

One rule for amounts: ``price_cents`` (on ``Service`` and ``Booking``) is in the currency's smallest
unit, which is exactly what Stripe's ``unit_amount`` takes: cents for EUR or USD, yen for JPY (a
zero-decimal currency has no minor unit). So 9500 EUR-cents shows as "95.00 EUR" and 1500 JPY as
"1500 JPY", and both go to Stripe unchanged.

``SUPPORTED`` is a deliberately small list of common ISO 4217 codes Stripe accepts for payments
(https://docs.stripe.com/currencies), lowercase as Stripe wants them. Left out on purpose: Stripe's
special cases (HUF, ISK, TWD, UGX: charged in two-decimal form but paid out without decimals) and
the three-decimal currencies (BHD, JOD, KWD, OMR, TND), which the one rule above does not cover.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError

# Stripe's zero-decimal currencies: the amount is in whole units.
ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "vnd", "vuv", "xaf", "xof", "xpf"}
)
TWO_DECIMAL = frozenset(
    {
        "aed", "aud", "bgn", "brl", "cad", "chf", "cny", "czk", "dkk", "eur", "gbp", "hkd", "idr", "ils",
        "inr", "mxn", "myr", "nok", "nzd", "php", "pln", "ron", "sar", "sek", "sgd", "thb", "try", "usd",
        "zar",
    }
)  # fmt: skip
SUPPORTED = ZERO_DECIMAL | TWO_DECIMAL
MAX_AMOUNT_DIGITS = 1000  # digits before the decimal point of an amount typed
UNSUPPORTED = "“%(value)s” is not a currency we can take payments in; use an ISO 4217 code such as eur, usd or jpy."


def normalize(code: str) -> str:
    return code.strip().lower()


def validate_currency(value: str) -> None:
    """Field validator: a supported code, in any case (``Service.clean`` stores it lowercase)."""
    if normalize(value) not in SUPPORTED:
        raise ValidationError(UNSUPPORTED, code="unsupported_currency", params={"value": value})


def amount_text(amount: int, currency: str) -> str:
    """``amount`` in the currency's smallest unit as it reads: ``"95.00 EUR"``, ``"1500 JPY"``."""
    code = normalize(currency)
    if code in ZERO_DECIMAL:
        return f"{amount} {code.upper()}"
    return f"{amount / 100:.2f} {code.upper()}"


def parse_amount(text: str, currency: str) -> int | None:
    """``"95.00"`` or ``"95,00"`` (EUR) → 9500, ``"1500"`` (JPY) → 1500, ``"0"`` → 0: an amount typed in
    the currency's units, in its smallest unit; None when it is no such amount (negative, a third
    decimal, yen with decimals, not a number, ``MAX_AMOUNT_DIGITS`` digits or more)."""
    try:
        amount = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0:
        return None
    # An exponent far past any price (``1e99999999``) is no amount: refused before any arithmetic, which
    # would overflow the decimal context or build an integer of millions of digits, for hours.
    if amount.adjusted() >= MAX_AMOUNT_DIGITS:
        return None
    cents = amount if normalize(currency) in ZERO_DECIMAL else amount * 100
    if cents != cents.to_integral_value():
        return None
    return int(cents)


def amount_input(cents: int, currency: str) -> str:
    """``cents`` as staff type it (``parse_amount``'s inverse): ``"95.00"``, ``"1500"``."""
    return str(cents) if normalize(currency) in ZERO_DECIMAL else f"{Decimal(cents) / 100:.2f}"
