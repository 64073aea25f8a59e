"""Reads of the ideas app: listings, figures and who may do what."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from cocreate.models import Organisation, User
from cocreate.roles import Role, has_role
from ideas.models import (
    PUBLIC_STATUSES,
    PUBLISHED_OR_LATER,
    Idea,
    IdeaCampaignPage,
    IdeaCoCreator,
    Notification,
    Support,
)

# Ideas that are still "alive" for board agendas and the most-supported board.
ACTIVE_STATUSES = frozenset(
    {Idea.Status.PUBLISHED, Idea.Status.IN_REVIEW, Idea.Status.APPROVED, Idea.Status.IN_DEVELOPMENT}
)


def public_figures() -> tuple[int, int]:
    """``(ideas, supporters)``: ideas that were published (and not merged away), and distinct people
    whose support counts on them."""
    ideas = Idea.objects.filter(status__in=PUBLISHED_OR_LATER).count()
    supporters = (
        Support.objects.filter(counts=True, idea__status__in=PUBLISHED_OR_LATER).values("user_id").distinct().count()
    )
    return ideas, supporters


def most_supported_ideas(*, tier: str | None = None, limit: int = 10) -> list[Idea]:
    """The active ideas with the most counted supporters, best first.

    With ``tier`` (an ``Organisation.Tier`` value) only supporters from organisations of that tier count; each
    idea then carries ``tier_supporters``. Without it, ``tier_supporters`` equals ``supporters_count``.
    """
    ideas = Idea.objects.filter(status__in=ACTIVE_STATUSES).select_related("campaign")
    if tier is None:
        result = list(ideas.order_by("-supporters_count", "-published_at", "pk")[:limit])
        for idea in result:
            idea.tier_supporters = idea.supporters_count
        return result
    if tier not in Organisation.Tier.values:
        raise ValueError(f"unknown tier {tier!r}")
    return list(
        ideas.annotate(
            tier_supporters=Count("supports", filter=Q(supports__counts=True, supports__user__organisation__tier=tier))
        )
        .filter(tier_supporters__gt=0)
        .order_by("-tier_supporters", "-supporters_count", "pk")[:limit]
    )


def campaign_for_user(*, campaign: IdeaCampaignPage, user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether ``user`` may take part (submit, support, comment) in ``campaign``."""
    if not user.is_authenticated or not user.is_active:
        return False
    if has_role(user, Role.PRODUCT_MANAGER):
        return True
    if not has_role(user, Role.CUSTOMER):
        return False
    if campaign.participation == IdeaCampaignPage.Participation.ALL_CUSTOMERS:
        return True
    organisation_id = getattr(user, "organisation_id", None)
    return organisation_id is not None and campaign.organisations.filter(pk=organisation_id).exists()


def is_idea_creator(*, idea: Idea, user: AbstractBaseUser | AnonymousUser) -> bool:
    """The creator or an accepted co-creator."""
    if not user.is_authenticated:
        return False
    if idea.creator_id == user.pk:
        return True
    return IdeaCoCreator.objects.filter(idea=idea, user_id=user.pk, accepted_at__isnull=False).exists()


def can_see_idea(*, idea: Idea, user: AbstractBaseUser | AnonymousUser) -> bool:
    """Public ideas are visible to all; pending, needs-work and rejected ones to their creators and PMs."""
    if idea.status in PUBLIC_STATUSES:
        return True
    if has_role(user, Role.PRODUCT_MANAGER):
        return True
    if not user.is_authenticated:
        return False
    return idea.creator_id == user.pk or IdeaCoCreator.objects.filter(idea=idea, user_id=user.pk).exists()


def ideas_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Idea]:
    if has_role(user, Role.PRODUCT_MANAGER):
        return Idea.objects.all()
    public = Q(status__in=PUBLIC_STATUSES)
    if user.is_authenticated:
        invited = IdeaCoCreator.objects.filter(user_id=user.pk).values("idea_id")
        public |= Q(creator_id=user.pk) | Q(pk__in=invited)
    return Idea.objects.filter(public)


def unread_notifications_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def idea_demand(*, idea: Idea) -> dict[str, Any]:
    """The B2B figures behind an idea: supporters by organisation and tier, accounts and their revenue,
    importance and purchase intent totals. Only counted supports are included."""
    supports = Support.objects.filter(idea=idea, counts=True)
    by_org: list[dict[str, Any]] = [
        dict(row)
        for row in supports.filter(user__organisation__isnull=False)
        .values("user__organisation_id", "user__organisation__name", "user__organisation__tier")
        .annotate(
            supporters=Count("pk"),
            proxies=Count("pk", filter=Q(is_proxy=True)),
            must=Count("pk", filter=Q(importance=Support.Importance.MUST_HAVE)),
            would_buy=Count("pk", filter=Q(would_buy=True)),
            quantity=Sum("quantity"),
        )
        .order_by("-supporters", "user__organisation__name")
    ]
    org_ids = [row["user__organisation_id"] for row in by_org]
    revenue = Organisation.objects.filter(pk__in=org_ids).aggregate(total=Sum("annual_revenue"))["total"] or 0
    revenues = dict(Organisation.objects.filter(pk__in=org_ids).values_list("pk", "annual_revenue"))
    for row in by_org:
        row["annual_revenue"] = revenues.get(row["user__organisation_id"], 0)
    by_tier = {
        row["user__organisation__tier"]: row["n"]
        for row in supports.filter(user__organisation__isnull=False)
        .values("user__organisation__tier")
        .annotate(n=Count("pk"))
    }
    totals = supports.aggregate(
        nice=Count("pk", filter=Q(importance=Support.Importance.NICE_TO_HAVE)),
        important=Count("pk", filter=Q(importance=Support.Importance.IMPORTANT)),
        must=Count("pk", filter=Q(importance=Support.Importance.MUST_HAVE)),
        would_buy=Count("pk", filter=Q(would_buy=True)),
        quantity=Sum("quantity"),
        proxies=Count("pk", filter=Q(is_proxy=True)),
        no_organisation=Count("pk", filter=Q(user__organisation__isnull=True)),
    )
    return {
        "organisations": by_org,
        "accounts": len(by_org),
        "revenue": revenue,
        "tiers": {tier: by_tier.get(tier, 0) for tier in Organisation.Tier.values},
        "importance": {"nice": totals["nice"], "important": totals["important"], "must": totals["must"]},
        "would_buy": totals["would_buy"],
        "quantity": totals["quantity"] or 0,
        "proxies": totals["proxies"],
        "no_organisation": totals["no_organisation"],
    }


def ideas_search(*, queryset: QuerySet[Idea], query: str, order_by_relevance: bool = False) -> Any:
    """Full-text search through Wagtail search (PostgreSQL full text, SQLite FTS), keeping ``queryset``'s
    filters and, unless asked for relevance, its ordering. Returns a sliceable, countable result."""
    from wagtail.search.backends import get_search_backend

    return get_search_backend().search(query, queryset, order_by_relevance=order_by_relevance)


def similar_ideas(*, query: str, campaign_id: int | None = None, limit: int = 5) -> list[Idea]:
    """Public ideas matching any word of ``query`` (at least three letters typed), best match first."""
    if len(query.strip()) < 3:
        return []
    from wagtail.search.backends import get_search_backend

    ideas = Idea.objects.filter(status__in=PUBLIC_STATUSES - {Idea.Status.MERGED})
    if campaign_id is not None:
        ideas = ideas.filter(campaign_id=campaign_id)
    backend = get_search_backend()
    results = list(backend.search(query, ideas, operator="or")[:limit])
    if not results:
        results = list(backend.autocomplete(query, ideas)[:limit])
    return results


def with_account_revenue(queryset: QuerySet[Idea]) -> QuerySet[Idea]:
    """Annotate ``account_revenue``: the total annual revenue of the distinct organisations whose members'
    support counts on each idea (one correlated subquery, no per-row queries)."""
    organisations = Support.objects.filter(idea_id=OuterRef(OuterRef("pk")), counts=True).values(
        "user__organisation_id"
    )
    revenue = (
        Organisation.objects.filter(pk__in=organisations)
        .annotate(group=Value(1))
        .values("group")
        .annotate(total=Sum("annual_revenue"))
        .values("total")
    )
    return queryset.annotate(
        account_revenue=Coalesce(
            Subquery(revenue, output_field=DecimalField(max_digits=20, decimal_places=2)),
            Value(0, output_field=DecimalField(max_digits=20, decimal_places=2)),
        )
    )
