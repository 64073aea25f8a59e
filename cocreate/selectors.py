"""Reads that belong to the shared core."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache

from cocreate.models import Organisation, User


@dataclass(frozen=True)
class PlatformFigures:
    members: int
    organisations: int


def platform_figures() -> PlatformFigures:
    """Live figures for the home page, cached for a minute so the front page costs no queries most of the time."""
    cached = cache.get("platform_figures")
    if isinstance(cached, PlatformFigures):
        return cached
    figures = PlatformFigures(
        members=User.objects.filter(is_active=True).count(),
        organisations=Organisation.objects.count(),
    )
    cache.set("platform_figures", figures, 60)
    return figures
