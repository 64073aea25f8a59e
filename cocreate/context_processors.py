from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

from cocreate.roles import Role, has_role, is_staff_role


def _footer_links() -> list[tuple[str, str]]:
    links = cache.get("footer_links")
    if links is None:
        from cocreate.models import ContentPage

        links = [(p.title, p.url) for p in ContentPage.objects.live().public().filter(depth=3).order_by("path")]
        cache.set("footer_links", links, 300)
    return links


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    return {
        "LANGUAGES": settings.LANGUAGES,
        "nav_is_staff": is_staff_role(user),
        "nav_is_pm": has_role(user, Role.PRODUCT_MANAGER),
        "nav_is_finance": has_role(user, Role.FINANCE),
        "footer_links": _footer_links(),
    }
