"""Reads that belong to the shared core."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache

from cocreate.models import Organisation, User


@dataclass(frozen=True)
class PlatformFigures:
    ideas: int
    supporters: int
    boards: int
    members: int
    organisations: int


def platform_figures() -> PlatformFigures:
    """Live figures for the home page, cached for a minute so the front page costs no queries most of the time."""
    from boards.models import Board
    from ideas.selectors import public_figures

    cached = cache.get("platform_figures")
    if isinstance(cached, PlatformFigures):
        return cached
    ideas, supporters = public_figures()
    figures = PlatformFigures(
        ideas=ideas,
        supporters=supporters,
        boards=Board.objects.count(),
        members=User.objects.filter(is_active=True).count(),
        organisations=Organisation.objects.count(),
    )
    cache.set("platform_figures", figures, 60)
    return figures
