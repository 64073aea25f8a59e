"""The weekly digest for executives (staff and product managers): last week's figures and the ideas that moved."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from cocreate.insights import selectors
from cocreate.insights.selectors import InsightFilters
from cocreate.models import User
from cocreate.roles import GROUP_NAMES, Role
from ideas.models import Idea, StatusChange

MOVES_SHOWN = 25


def digest_recipients() -> list[User]:
    return list(
        User.objects.filter(is_active=True)
        .filter(Q(is_staff=True) | Q(is_superuser=True) | Q(groups__name=GROUP_NAMES[Role.PRODUCT_MANAGER]))
        .distinct()
        .order_by("pk")
    )


def week_before(day: datetime.date) -> InsightFilters:
    """The seven days that end the day before ``day``."""
    return InsightFilters(start=day - datetime.timedelta(days=7), end=day - datetime.timedelta(days=1))


def digest_context(filters: InsightFilters) -> dict[str, Any]:
    """The figures of ``filters``' days and the status changes made in them (submissions excluded)."""
    funnel = selectors.idea_funnel(filters)["total"]
    nps = selectors.nps(filters)["total"]
    csat = selectors.csat(filters)["total"]
    participation = selectors.participation(filters)
    moves = (
        StatusChange.objects.filter(created_at__gte=filters.start_at, created_at__lt=filters.end_before)
        .exclude(to_status=Idea.Status.PENDING)
        .select_related("idea")
        .order_by("created_at", "pk")
    )
    return {
        "start": filters.start,
        "end": filters.end,
        "submitted": funnel[0]["submitted"] if funnel else 0,
        "published": funnel[0]["published"] if funnel else 0,
        "supports": sum(row["supports"] for row in participation),
        "comments": sum(row["comments"] for row in participation),
        "nps": nps[0] if nps else None,
        "csat": csat[0] if csat else None,
        "moves": list(moves[:MOVES_SHOWN]),
        "moves_total": moves.count(),
    }


def weekly_digest_send(*, today: datetime.date | None = None) -> int:
    """E-mail last week's digest to every executive, in their language; once per person and week."""
    from cocreate.mail import email_user_on_commit

    filters = week_before(today or timezone.localdate())
    context = {
        **digest_context(filters),
        "site_url": settings.SITE_URL,
        "insights_url": settings.SITE_URL + reverse("insights:index"),
    }
    sent = 0
    for user in digest_recipients():
        email_user_on_commit(
            user=user,
            template="cocreate/insights/email/digest",
            context=context,
            idempotency_key=f"insights-digest-{filters.start:%Y%m%d}-{user.pk}",
        )
        sent += 1
    return sent
