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
