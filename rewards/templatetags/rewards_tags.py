from __future__ import annotations

import json

from django import template

from rewards import money

register = template.Library()


@register.filter
def minor(value: int | None, currency: str) -> str:
    """Integer minor units as a decimal string in the currency's places: ``{{ line.net_minor|minor:line.currency }}``."""
    if value is None:
        return ""
    try:
        return money.format_minor(int(value), currency)
    except money.MoneyError:
        return str(value)


@register.filter
def as_json(value: object) -> str:
    """Audit details as readable JSON (escaped by the template like any other text)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
