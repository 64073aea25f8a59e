"""Wagtail admin for product managers: the moderation queue (submissions and reported comments), review
rounds, webhook endpoints and the log of their deliveries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.permission_policies.base import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy

from cocreate.errors import DomainError
from cocreate.models import User
from cocreate.roles import GROUP_NAMES, Role, has_role, is_staff_role
from ideas import services
from ideas.models import REVIEW_CRITERIA, Idea, IdeaReview, Report, ReviewRound, WebhookDelivery, WebhookEndpoint


def _pm(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User) or not has_role(user, Role.PRODUCT_MANAGER):
        raise PermissionDenied
    return user


def moderation_queue(request: HttpRequest) -> HttpResponse:
    """Pending ideas (oldest first) and open reports; each decision is one service call."""
    user = _pm(request)
    if request.method == "POST":
        try:
            if "idea" in request.POST:
                idea = get_object_or_404(Idea, pk=request.POST["idea"])
                services.idea_moderate(
                    idea=idea,
                    moderator=user,
                    decision=request.POST.get("decision", ""),
                    reason=request.POST.get("reason", ""),
                )
                messages.success(request, _("“%(title)s” moderated.") % {"title": idea.title})
            elif "report" in request.POST:
                report = get_object_or_404(Report.objects.select_related("comment"), pk=request.POST["report"])
                if request.POST.get("action") == "hide" and report.comment is not None:
                    services.comment_hide(comment=report.comment, moderator=user)
                else:
                    services.report_dismiss(report=report, moderator=user)
                messages.success(request, _("Report handled."))
        except DomainError as error:
            messages.error(request, error.message)
        return redirect("ideas_moderation")
    pending = (
        Idea.objects.filter(status=Idea.Status.PENDING).select_related("creator", "campaign").order_by("created_at")
    )
    reports = (
        Report.objects.filter(resolved_at__isnull=True)
        .select_related("idea", "comment", "comment__author", "reporter")
        .order_by("created_at")
    )
    return render(request, "ideas/admin/moderation.html", {"pending": pending, "reports": reports})


def review_rounds(request: HttpRequest) -> HttpResponse:
    user = _pm(request)
    if request.method == "POST":
        try:
            deadline = dt.date.fromisoformat(request.POST.get("deadline", ""))
        except ValueError:
            messages.error(request, _("Give the deadline as a date."))
        else:
            try:
                review_round = services.review_round_open(
                    actor=user, name=request.POST.get("name", ""), deadline=deadline
                )
            except DomainError as error:
                messages.error(request, error.message)
            else:
                return redirect("ideas_review_round", pk=review_round.pk)
    rounds = ReviewRound.objects.all()
    in_review = Idea.objects.filter(status=Idea.Status.IN_REVIEW).count()
    return render(request, "ideas/admin/review_rounds.html", {"rounds": rounds, "in_review": in_review})


def review_round(request: HttpRequest, pk: int) -> HttpResponse:
    user = _pm(request)
    current = get_object_or_404(ReviewRound, pk=pk)
    if request.method == "POST":
        try:
            if request.POST.get("close"):
                services.review_round_close(review_round=current, actor=user)
            else:
                review = get_object_or_404(
                    IdeaReview.objects.select_related("idea", "round"), pk=request.POST.get("review"), round=current
                )
                scores: dict[str, int] = {}
                for key, _label in REVIEW_CRITERIA:
                    value = request.POST.get(f"score_{key}", "")
                    if value.isdigit():
                        scores[key] = int(value)
                if scores:
                    services.review_score(review=review, actor=user, scores=scores)
                if decision := request.POST.get("decision", ""):
                    services.review_decide(
                        review=review,
                        actor=user,
                        decision=decision,
                        reason=request.POST.get("reason", ""),
                        reason_code=request.POST.get("reason_code", ""),
                        reason_public=request.POST.get("reason_public") == "on",
                    )
                messages.success(request, _("Saved."))
        except DomainError as error:
            messages.error(request, error.message)
        return redirect("ideas_review_round", pk=current.pk)
    reviews = current.reviews.select_related("idea", "idea__creator").order_by("-idea__supporters_count")
    rows: list[dict[str, Any]] = [
        {"review": r, "scores": [(key, label, r.scores.get(key, "")) for key, label in REVIEW_CRITERIA]}
        for r in reviews
    ]
    return render(
        request,
        "ideas/admin/review_round.html",
        {"round": current, "rows": rows, "decisions": IdeaReview.Decision.choices[1:], "criteria": REVIEW_CRITERIA},
    )


@hooks.register("register_admin_urls")
def register_admin_urls() -> list[URLPattern]:
    return [
        path("ideas/moderation/", moderation_queue, name="ideas_moderation"),
        path("ideas/review-rounds/", review_rounds, name="ideas_review_rounds"),
        path("ideas/review-rounds/<int:pk>/", review_round, name="ideas_review_round"),
    ]


class ProductManagerMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return has_role(request.user, Role.PRODUCT_MANAGER)


class ModerationMenuItem(ProductManagerMenuItem):
    def get_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().get_context(request)
        waiting = Idea.objects.filter(status=Idea.Status.PENDING).count()
        waiting += Report.objects.filter(resolved_at__isnull=True).count()
        if waiting:
            context["label"] = f"{self.label} ({waiting})"
        return context


@hooks.register("register_admin_menu_item")
def register_moderation_menu_item() -> MenuItem:
    return ModerationMenuItem(
        gettext_lazy("Idea moderation"), reverse("ideas_moderation"), icon_name="tasks", order=210
    )


@hooks.register("register_admin_menu_item")
def register_review_menu_item() -> MenuItem:
    return ProductManagerMenuItem(
        gettext_lazy("Review rounds"), reverse("ideas_review_rounds"), icon_name="list-ol", order=211
    )


class WebhookViewSet(ModelViewSet):
    model = WebhookEndpoint
    icon = "link"
    menu_label = gettext_lazy("Idea webhooks")
    add_to_settings_menu = True
    list_display = ["url", "active", "created_at"]
    form_fields = ["url", "secret", "events", "active"]


@hooks.register("register_admin_viewset")
def register_webhook_viewset() -> WebhookViewSet:
    return WebhookViewSet("idea_webhooks")


class ReadOnlyForStaffPolicy(ModelPermissionPolicy):
    """Staff (product managers, finance, ``is_staff``) may look; nobody, not even a superuser, may add, change or
    delete: the delivery log is a record of what happened."""

    def user_has_permission(self, user: Any, action: str) -> bool:
        return action == "view" and is_staff_role(user)

    def users_with_any_permission(self, actions: Any) -> Any:
        if "view" not in actions:
            return User.objects.none()
        return (
            User.objects.filter(is_active=True)
            .filter(
                Q(is_staff=True)
                | Q(is_superuser=True)
                | Q(groups__name__in=[GROUP_NAMES[Role.PRODUCT_MANAGER], GROUP_NAMES[Role.FINANCE]])
            )
            .distinct()
        )


register_permission_policy(WebhookDelivery, ReadOnlyForStaffPolicy(WebhookDelivery))


class WebhookDeliveryViewSet(ModelViewSet):
    model = WebhookDelivery
    icon = "history"
    menu_label = gettext_lazy("Webhook deliveries")
    add_to_settings_menu = True
    copy_view_enabled = False
    inspect_view_enabled = True
    list_display = ["created_at", "event", "url", "attempt", "status_code", "succeeded", "duration_ms", "error"]
    list_filter = ["event", "succeeded", "status_code"]
    form_fields = ["url", "event", "attempt", "status_code", "succeeded", "duration_ms", "error"]


@hooks.register("register_admin_viewset")
def register_webhook_delivery_viewset() -> WebhookDeliveryViewSet:
    return WebhookDeliveryViewSet("idea_webhook_deliveries")
