"""The one HTML policy for everything users write.

Every place that renders user HTML calls ``clean_html`` (or the ``|sanitize`` template filter, which calls
it). Plain-text fields that must never carry markup go through ``clean_text``. Nothing else in the code base
may build a ``bleach.Cleaner``.
"""

from __future__ import annotations

import html
from collections.abc import MutableMapping
from functools import lru_cache

import bleach
from bleach.css_sanitizer import CSSSanitizer
from bleach.linkifier import LinkifyFilter
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "code",
        "em",
        "h2",
        "h3",
        "h4",
        "hr",
        "i",
        "li",
        "ol",
        "p",
        "pre",
        "s",
        "strong",
        "sub",
        "sup",
        "u",
        "ul",
    }
)
ALLOWED_ATTRIBUTES = {"a": ["href", "title", "rel"], "abbr": ["title"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
# No style attribute is allowed at all; the sanitizer is here so that a future allowance stays safe.
CSS_SANITIZER = CSSSanitizer(allowed_css_properties=[])


def _set_link_rel(
    attrs: MutableMapping[tuple[str | None, str], str], new: bool = False
) -> MutableMapping[tuple[str | None, str], str]:
    attrs[(None, "rel")] = "nofollow noopener"
    return attrs


@lru_cache(maxsize=1)
def _cleaner() -> bleach.Cleaner:
    return bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        css_sanitizer=CSS_SANITIZER,
        strip=True,
        strip_comments=True,
        filters=[lambda source: LinkifyFilter(source, callbacks=[_set_link_rel], skip_tags={"pre", "code"})],
    )


def clean_html(value: str | None) -> SafeString:
    """User HTML reduced to the allowed tags, with every link marked ``rel="nofollow noopener"``."""
    if not value:
        return mark_safe("")
    return mark_safe(_cleaner().clean(value))  # noqa: S308 - the output of the policy above


def clean_text(value: str | None) -> str:
    """Plain text with every tag removed, for fields that templates escape on output.

    Entities are decoded so that "R&D" stays "R&D"; decoding can reveal a tag that was entity-encoded
    (``&lt;script&gt;``), so stripping repeats until the text no longer changes.
    """
    text = value or ""
    for _ in range(5):
        stripped = html.unescape(bleach.clean(text, tags=set(), attributes={}, strip=True, strip_comments=True))
        if stripped == text:
            break
        text = stripped
    return text.strip()
