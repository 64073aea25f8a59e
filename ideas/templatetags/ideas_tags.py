from __future__ import annotations

from typing import Any

from django import template

from ideas.selectors import unread_notifications_count

register = template.Library()


@register.simple_tag
def ideas_unread(user: Any) -> int:
    """Unread idea notifications of the signed-in person (0 for visitors)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return unread_notifications_count(user)
