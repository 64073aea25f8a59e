"""Serving Wagtail pages without routing queries on every request.

Wagtail's ``serve`` finds the site, walks the page tree from the site's root to the page, loads the page's
specific instance, then its ancestors and their view restrictions; the footer reads the site settings. That is
seven queries before the page itself does any work, on every request. Here the outcome (site, page, route
arguments, view restrictions, site settings) is kept in each process, per host, path and language, and checked
against one version number in the shared cache (a single round trip). Anything that can change a route bumps
the version: a page saved, published, unpublished, moved or deleted, a view restriction, a site or the site
settings changed. The next request in every process then routes through Wagtail again. The request still goes
through Wagtail's own ``serve`` (its hooks, view restriction checks and the page's ``serve``) with the route
filled in, exactly as Wagtail caches it on the request itself.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import translation
from wagtail import views as wagtail_views
from wagtail.models import Page, PageViewRestriction, Site
from wagtail.signals import page_published, page_unpublished, post_page_move

from cocreate.models import SiteSettings
from cocreate.versions import KeptPerProcess, version_replace

VERSION_KEY = "page-routes-version"
ROUTES_MAX = 5000  # per process; past it the table starts again (paths are few, but a crawler can make many)


@dataclass(frozen=True)
class _Route:
    site: Site
    page: Page
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    restrictions: list[PageViewRestriction]
    site_settings: SiteSettings


_routes: KeptPerProcess[tuple[str, str, str], _Route] = KeptPerProcess(VERSION_KEY, ROUTES_MAX)


def page_routes_invalidate() -> None:
    """Make every process route again (see ``cocreate.versions``)."""
    version_replace(VERSION_KEY)


def serve(request: HttpRequest, path: str) -> HttpResponse:
    """Wagtail's ``serve`` with the route, the site and the site settings taken from the process's table."""
    key = (request.get_host(), path, translation.get_language() or "")
    route = _routes.get(key, lambda: _route(request, path))
    # A copy per request: pages keep per-request state on themselves (e.g. ``_request``); the table's stays clean.
    page = copy.copy(route.page)
    restrictions = route.restrictions
    page.get_view_restrictions = lambda: restrictions
    site_settings = copy.copy(route.site_settings)
    site_settings._request = request  # as SiteSettings.for_request leaves it
    request._wagtail_site = route.site  # type: ignore[attr-defined]
    request._wagtail_route_for_request = (page, route.args, route.kwargs)  # type: ignore[attr-defined]
    setattr(request, SiteSettings.get_cache_attr_name(), site_settings)
    return wagtail_views.serve(request, path)


def _route(request: HttpRequest, path: str) -> _Route:
    found = Page.route_for_request(request, path)
    site = Site.find_for_request(request)
    if found is None or site is None:
        raise Http404
    page, args, kwargs = found
    return _Route(
        site=site,
        page=page,
        args=tuple(args or ()),
        kwargs=dict(kwargs or {}),
        restrictions=list(page.get_view_restrictions()),
        site_settings=SiteSettings.for_site(site),
    )


@receiver(post_save, dispatch_uid="page-routes-saved")
@receiver(post_delete, dispatch_uid="page-routes-deleted")
def _model_changed(sender: type[Any], **kwargs: Any) -> None:
    if issubclass(sender, Page | PageViewRestriction | Site | SiteSettings):
        page_routes_invalidate()


@receiver(page_published, dispatch_uid="page-routes-published")
@receiver(page_unpublished, dispatch_uid="page-routes-unpublished")
@receiver(post_page_move, dispatch_uid="page-routes-moved")
def _page_changed(sender: type[Any], **kwargs: Any) -> None:
    page_routes_invalidate()
