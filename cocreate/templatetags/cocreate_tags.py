from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from cocreate.sanitize import clean_html

register = template.Library()


@register.filter(name="sanitize")
def sanitize(value: str | None) -> SafeString:
    return clean_html(value)
