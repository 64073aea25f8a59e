"""Pages of the ideas app: thin adapters over selectors and services."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest

from ideas.models import PUBLIC_STATUSES, Idea, IdeaCampaignPage

SORTS = {
    "trending": ("-trending_score", "-supporters_count", "-pk"),
    "supported": ("-supporters_count", "-published_at", "-pk"),
    "newest": ("-published_at", "-pk"),
    "ending": ("deadline", "-pk"),
}
PAGE_SIZE = 20


def campaign_context(*, request: HttpRequest, campaign: IdeaCampaignPage) -> dict[str, Any]:
    """The campaign page's list of public ideas: sorted, filtered and paginated."""
    sort = request.GET.get("sort", "trending")
    if sort not in SORTS:
        sort = "trending"
    ideas = Idea.objects.filter(campaign=campaign, status__in=PUBLIC_STATUSES).exclude(status=Idea.Status.MERGED)
    if sort == "ending":
        ideas = ideas.filter(status=Idea.Status.PUBLISHED, deadline__isnull=False)
    page = Paginator(ideas.order_by(*SORTS[sort]).select_related("creator"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return {"page_obj": page, "ideas": page.object_list, "sort": sort, "sorts": list(SORTS)}
