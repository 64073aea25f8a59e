"""REST endpoints of the ideas app, mounted under /api/ by cocreate.urls."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
