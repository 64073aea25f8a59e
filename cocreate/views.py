from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from cocreate.api import api_not_found
from cocreate.forms import ProfileForm
from cocreate.health import health_report
from cocreate.models import User
from cocreate.tasks import HEARTBEAT_KEY


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, checks = health_report()
    return JsonResponse(
        {"status": "ok" if healthy else "degraded", "checks": checks, "scheduler_last_beat": cache.get(HEARTBEAT_KEY)},
        status=200 if healthy else 503,
    )


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)  # login_required
    form = ProfileForm(request.POST or None, instance=user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your profile was saved."))
        response = redirect("profile")
        if form.cleaned_data["preferred_language"]:
            translation.activate(form.cleaned_data["preferred_language"])
            response.set_cookie("django_language", form.cleaned_data["preferred_language"], samesite="Lax")
        return response
    return render(request, "cocreate/profile.html", {"form": form})


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api_not_found(request, exception)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error.", "code": "server_error"}, status=500)
    # Rendered without a request context: the failure may be in what a context processor needs.
    return render(None, "500.html", status=500)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": "You do not have permission to perform this action.", "code": "permission_denied"}, status=403
        )
    return render(request, "403.html", status=403)
