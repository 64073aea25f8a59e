"""The platform's URLs plus the benchmark's baselines: a bare list view and a bare one-row insert view."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from cocreate.urls import handler403, handler404, handler500
from cocreate.urls import urlpatterns as platform_urlpatterns
from ideas.models import Idea, Notification


def bare_list(request: HttpRequest) -> JsonResponse:
    """One simple query of 25 rows, serialised by hand: the cheapest useful list Django can serve."""
    rows = list(Idea.objects.order_by("-supporters_count", "-id").values("id", "title", "supporters_count")[:25])
    return JsonResponse({"results": rows})


@csrf_exempt
def bare_insert(request: HttpRequest) -> JsonResponse:
    """Insert one row and answer: the floor for any write endpoint."""
    row = Notification.objects.create(user_id=int(request.GET.get("user", "1")), kind="status", text="bench")
    return JsonResponse({"id": row.pk})


urlpatterns = [
    path("bench/bare-list/", bare_list),
    path("bench/bare-insert/", bare_insert),
    *platform_urlpatterns,
]

__all__ = ["handler403", "handler404", "handler500", "urlpatterns"]
