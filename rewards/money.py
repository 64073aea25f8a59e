"""Money arithmetic for royalties: the only rounding rule, currencies and their minor units, splits and tiers.

Amounts are ``Decimal`` in code and integer minor units (cents, yen, fils) in the ledger. Everything here is pure
Python, with an explicit ``rounding=`` on every quantize and a local context wide enough that sums and products of
sales figures are exact (the default context keeps 28 digits and rounds half-even silently).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext

from django.utils.translation import gettext as _

BP_WHOLE = 10_000  # basis points in 100%

# ISO 4217 codes with their minor-unit exponent. Our own table on purpose: payment providers disagree on a few
# (some treat KWD/BHD/OMR as 2 decimals); ISO says 3, and the ledger follows ISO.
CURRENCY_EXPONENTS: dict[str, int] = {
    "AED": 2, "ARS": 2, "AUD": 2, "BGN": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CLP": 0, "CNY": 2,
    "COP": 2, "CZK": 2, "DKK": 2, "EGP": 2, "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "IDR": 2, "ILS": 2,
    "INR": 2, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "LYD": 3, "MXN": 2, "MYR": 2,
    "NOK": 2, "NZD": 2, "OMR": 3, "PHP": 2, "PLN": 2, "QAR": 2, "RON": 2, "SAR": 2, "SEK": 2, "SGD": 2,
    "THB": 2, "TND": 3, "TRY": 2, "TWD": 2, "UAH": 2, "USD": 2, "VND": 0, "ZAR": 2,
}  # fmt: skip


class Rounding:
    """The two rounding modes an agreement may choose; the values are stored on the terms."""

    HALF_UP = "half_up"
    HALF_EVEN = "half_even"

    choices = ((HALF_UP, "half_up"), (HALF_EVEN, "half_even"))


_DECIMAL_ROUNDING = {Rounding.HALF_UP: ROUND_HALF_UP, Rounding.HALF_EVEN: ROUND_HALF_EVEN}

# Wide enough for a billion sales lines of 15 significant digits multiplied by a rate with 12 decimals.
EXACT = Context(prec=80, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation])


class MoneyError(ValueError):
    """An amount or currency that cannot be represented; the message is safe to show."""


def currency_exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency]
    except KeyError:
        raise MoneyError(
            _("Unknown currency %(code)r: use an ISO 4217 code such as EUR, USD or JPY.") % {"code": currency}
        ) from None


def is_currency(code: str) -> bool:
    return code in CURRENCY_EXPONENTS


def to_minor(amount: Decimal, currency: str, *, rounding: str) -> int:
    """Round ``amount`` once to the currency's minor unit and return it as an integer (12.345 EUR → 1235 half-up).

    This is the only place in cocreate where money is rounded.
    """
    if not isinstance(amount, Decimal):
        raise TypeError("to_minor takes a Decimal, never a float")
    if rounding not in _DECIMAL_ROUNDING:
        raise MoneyError(_("Unknown rounding mode %(mode)r.") % {"mode": rounding})
    exponent = currency_exponent(currency)
    with localcontext(EXACT):
        scaled = amount.scaleb(exponent)
        return int(scaled.quantize(Decimal(1), rounding=_DECIMAL_ROUNDING[rounding]))


def exact_minor(amount: Decimal, currency: str) -> int:
    """An amount that must already be whole minor units (an imported price): 12.34 EUR → 1234; 12.345 EUR fails."""
    exponent = currency_exponent(currency)
    with localcontext(EXACT):
        scaled = amount.scaleb(exponent)
        if scaled != scaled.to_integral_value():
            raise MoneyError(
                _("%(amount)s has more decimal places than %(currency)s allows (%(places)s).")
                % {"amount": amount, "currency": currency, "places": exponent}
            )
        return int(scaled)


def from_minor(minor: int, currency: str) -> Decimal:
    """Integer minor units back to a Decimal with the currency's places: 1234 EUR → Decimal('12.34')."""
    exponent = currency_exponent(currency)
    with localcontext(EXACT):
        return Decimal(minor).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def format_minor(minor: int, currency: str) -> str:
    """The decimal string the API and CSV exports use: '4115.23', '-0.05', '1200' (JPY)."""
    return str(from_minor(minor, currency))


def parse_amount(text: str) -> Decimal:
    """A plain decimal number as ERP exports write it: digits, an optional sign and one '.'; no grouping, no exponent."""
    cleaned = text.strip()
    body = cleaned[1:] if cleaned[:1] in "+-" else cleaned
    whole, _dot, fraction = body.partition(".")
    if not body or not (whole or fraction) or not (whole + fraction).isdigit() or not whole.isascii():
        raise MoneyError(
            _("%(text)r is not a number (write it like 1234.56, without thousands separators).") % {"text": text}
        )
    return Decimal(cleaned)


def split_largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` minor units in proportion to positive integer ``weights`` so the parts sum exactly.

    Each part is first floored; the leftover units go one each to the largest fractional remainders, ties to the
    earlier payee. A negative total is split as its absolute value and negated, so a reversal mirrors the original.
    """
    if not weights or any(weight <= 0 for weight in weights):
        raise MoneyError(_("Every share must be positive."))
    if total < 0:
        return [-part for part in split_largest_remainder(-total, weights)]
    whole_weight = sum(weights)
    parts = []
    remainders = []
    for index, weight in enumerate(weights):
        whole, remainder = divmod(total * weight, whole_weight)
        parts.append(whole)
        remainders.append((-remainder, index))
    leftover = total - sum(parts)
    for _remainder, index in sorted(remainders)[:leftover]:
        parts[index] += 1
    return parts


def shares_validate(shares_bp: Sequence[int]) -> None:
    if not shares_bp or any(share <= 0 for share in shares_bp) or sum(shares_bp) != BP_WHOLE:
        raise MoneyError(_("Payee shares must be positive and sum to exactly 10,000 basis points."))


def split_by_shares(total: int, shares_bp: Sequence[int]) -> list[int]:
    """Split a royalty among payees by their basis-point shares (largest remainder).

    Equal shares are split exactly equally: 3334/3333/3333 is how one third is written in basis points, and three
    equal creators of 12,345.68 get 4,115.23 / 4,115.23 / 4,115.22, not 4,116.06 / 4,114.81 / 4,114.81.
    """
    shares_validate(shares_bp)
    weights = [1] * len(shares_bp) if list(shares_bp) == equal_shares_bp(len(shares_bp)) else list(shares_bp)
    return split_largest_remainder(total, weights)


def equal_shares_bp(count: int) -> list[int]:
    """Equal basis-point shares for ``count`` payees, the leftover points to the earlier ones (3 → 3334/3333/3333)."""
    if count <= 0:
        raise MoneyError(_("At least one payee is needed."))
    base, extra = divmod(BP_WHOLE, count)
    return [base + (1 if index < extra else 0) for index in range(count)]


@dataclass(frozen=True)
class Tier:
    """Sales up to ``up_to`` (cumulative, in the agreement currency; ``None`` = no limit) earn ``rate_bp``."""

    up_to: Decimal | None
    rate_bp: int


def tiers_parse(raw: Iterable[dict[str, object]] | None, *, default_rate_bp: int) -> list[Tier]:
    """Validate tiers as stored on the terms (``[{"up_to": "1000000.00", "rate_bp": 100}, {"up_to": null, ...}]``).

    No tiers means one flat tier at ``default_rate_bp``. Bounds must rise; only the last may be open (``null``).
    """
    items = list(raw or [])
    if not items:
        return [Tier(up_to=None, rate_bp=_rate(default_rate_bp))]
    tiers: list[Tier] = []
    for position, item in enumerate(items, start=1):
        if not isinstance(item, dict) or "rate_bp" not in item or "up_to" not in item:
            raise MoneyError(_("Tier %(n)s needs 'up_to' and 'rate_bp'.") % {"n": position})
        bound = item["up_to"]
        up_to = None if bound is None else _decimal(bound, _("Tier %(n)s 'up_to'") % {"n": position})
        if up_to is not None and (up_to <= 0 or (tiers and tiers[-1].up_to is not None and up_to <= tiers[-1].up_to)):
            raise MoneyError(_("Tier %(n)s: bounds must be positive and rise from tier to tier.") % {"n": position})
        if tiers and tiers[-1].up_to is None:
            raise MoneyError(_("Only the last tier may be open-ended (up_to null)."))
        rate = item["rate_bp"]
        if not isinstance(rate, int) or isinstance(rate, bool):
            raise MoneyError(_("Tier %(n)s: rate_bp must be a whole number of basis points.") % {"n": position})
        tiers.append(Tier(up_to=up_to, rate_bp=_rate(rate)))
    if tiers[-1].up_to is not None:
        raise MoneyError(_("The last tier must be open-ended (up_to null)."))
    return tiers


def _rate(rate_bp: int) -> int:
    if rate_bp < 0 or rate_bp > BP_WHOLE:
        raise MoneyError(_("A rate must be between 0 and 10,000 basis points."))
    return rate_bp


def _decimal(value: object, label: str) -> Decimal:
    if isinstance(value, float):
        raise MoneyError(_("%(label)s must be a decimal string, not a float.") % {"label": label})
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise MoneyError(_("%(label)s is not a number.") % {"label": label}) from None


def _at_rate(amount: Decimal, rate_bp: int) -> Decimal:
    # rate_bp / 10,000 is a shift of four decimal places: exact, and cheaper than a division.
    return EXACT.multiply(amount, Decimal(rate_bp)).scaleb(-4, EXACT)


def _royalty_to(position: Decimal, tiers: Sequence[Tier]) -> Decimal:
    """Royalty owed on cumulative net sales from 0 to ``position``; below 0 the first tier's rate applies."""
    if position <= 0 or (len(tiers) == 1 and tiers[0].up_to is None):
        return _at_rate(position, tiers[0].rate_bp)
    owed = Decimal(0)
    floor = Decimal(0)
    for tier in tiers:
        top = position if tier.up_to is None else min(position, tier.up_to)
        if top > floor:
            owed = EXACT.add(owed, _at_rate(EXACT.subtract(top, floor), tier.rate_bp))
        if tier.up_to is None or position <= tier.up_to:
            break
        floor = tier.up_to
    return owed


def tiered_royalty(*, cumulative_before: Decimal, net_sales: Decimal, tiers: Sequence[Tier]) -> Decimal:
    """Exact royalty on ``net_sales`` added on top of ``cumulative_before``: each slice at its own tier's rate.

    Negative net sales (returns) walk back down the same tiers, so a sale and its return cancel exactly.
    """
    return EXACT.subtract(
        _royalty_to(EXACT.add(cumulative_before, net_sales), tiers), _royalty_to(cumulative_before, tiers)
    )
