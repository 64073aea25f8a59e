"""Reads of the ideas app: listings, figures and who may do what."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet, Sum

from cocreate import page_routes
from cocreate.models import Organisation, User
from cocreate.roles import Role, has_role
from cocreate.versions import KeptPerProcess
from ideas.models import (
    PUBLIC_STATUSES,
    PUBLISHED_OR_LATER,
    Comment,
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


_campaigns: KeptPerProcess[int, IdeaCampaignPage | None] = KeptPerProcess(page_routes.VERSION_KEY, max_entries=1000)


def campaign_kept(*, campaign_id: int) -> IdeaCampaignPage | None:
    """The campaign page, kept per process against ``cocreate.page_routes``' version, which every page save,
    publish, move or delete replaces (a campaign's settings and organisations are saved with its page). Saves
    the page join and parsing the milestones on every support. The page is shared by the requests of the
    process: read it, never change it."""
    return _campaigns.get(campaign_id, lambda: IdeaCampaignPage.objects.filter(pk=campaign_id).first())


def idea_for_support(*, idea_id: int) -> Idea | None:
    """The idea with only the columns supporting and withdrawing read (id, status, creator, campaign), or None.
    Written out: the ORM built this query in twice the CPU time of running it, on every support."""
    if not 0 < idea_id < 2**63:
        return None
    sql = f"SELECT id, status, creator_id, campaign_id FROM {Idea._meta.db_table} WHERE id = %s"  # noqa: S608
    return next(iter(Idea.objects.raw(sql, [idea_id])), None)


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


def comment_may_edit(*, comment: Comment, user: AbstractBaseUser | AnonymousUser, now: datetime) -> bool:
    """Only the author edits, and only within ``COMMENT_EDIT_WINDOW`` of posting a comment still shown."""
    return (
        user.is_authenticated
        and comment.author_id == user.pk
        and comment.deleted_at is None
        and comment.hidden_at is None
        and now <= comment.edit_deadline
    )


def comment_may_delete(*, comment: Comment, user: AbstractBaseUser | AnonymousUser) -> bool:
    """The author or a product manager (the moderators) deletes a comment. An official response is part of the
    idea's record: only a product manager whose account is staff (``is_staff``, the company's own people)
    deletes it."""
    if not user.is_authenticated:
        return False
    if comment.kind == Comment.Kind.OFFICIAL:
        return bool(getattr(user, "is_staff", False)) and has_role(user, Role.PRODUCT_MANAGER)
    return comment.author_id == user.pk or has_role(user, Role.PRODUCT_MANAGER)


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


def search_words(query: str) -> str:
    """The words of what someone typed, without the punctuation that full-text query syntaxes (SQLite FTS5
    in particular) would read as operators or unbalanced quotes."""
    return " ".join(re.findall(r"\w+", query))


def ideas_search(*, queryset: QuerySet[Idea], query: str, order_by_relevance: bool = False) -> Any:
    """Full-text search through Wagtail search (PostgreSQL full text, SQLite FTS), keeping ``queryset``'s
    filters and, unless asked for relevance, its ordering. Returns a sliceable, countable result."""
    from wagtail.search.backends import get_search_backend

    words = search_words(query)
    if not words:
        return queryset.none()
    return get_search_backend().search(words, queryset, order_by_relevance=order_by_relevance)


# Words too common to say that two titles are about the same thing. English only: Chinese titles have no spaces,
# so a run of Chinese characters is one word to the search index and is kept whole.
STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "in",
        "into",
        "is",
        "it",
        "its",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "this",
        "to",
        "too",
        "up",
        "us",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "without",
        "you",
        "your",
    ]
)


CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def suggestion_words(query: str) -> str:
    """The words of ``query`` worth matching on: ``search_words`` without English stop words."""
    return " ".join(word for word in search_words(query).split() if word.lower() not in STOP_WORDS)


def similar_ideas(*, query: str, campaign_id: int | None = None, limit: int = 5) -> list[Idea]:
    """Public ideas matching any content word of ``query`` (three letters or two Chinese characters typed; stop
    words ignored, so "Pallet tracking on the dock" does not suggest every idea with "the"), best match first."""
    # Three letters say little in English; two Chinese characters are usually a whole word.
    if len(search_words(query)) < (2 if CJK_RE.search(query) else 3):
        return []
    query = suggestion_words(query)
    if not query:
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


def _description_key(idea: Idea) -> str:
    return f"idea-html:{idea.pk}:{idea.updated_at.timestamp() if idea.updated_at else 0}"


def description_html(idea: Idea) -> str:
    return descriptions_html([idea])[idea.pk]


def descriptions_html(ideas: Iterable[Idea]) -> dict[int, str]:
    """Each idea's description cleaned again for output (stored cleaned, cleaned again on the way out), cached
    per idea version: one cache round trip for a page instead of 25 HTML parses."""
    from django.core.cache import cache

    from cocreate.sanitize import clean_html

    by_key = {_description_key(idea): idea for idea in ideas}
    found = cache.get_many(list(by_key))
    missing = {key: str(clean_html(idea.description)) for key, idea in by_key.items() if key not in found}
    if missing:
        cache.set_many(missing, 24 * 3600)
    found.update(missing)
    return {idea.pk: found[key] for key, idea in by_key.items()}


def tag_names_for(ideas: Iterable[Idea]) -> dict[int, list[str]]:
    """Tag names per idea in one query (taggit's prefetch builds a queryset per idea, which costs more)."""
    from ideas.models import IdeaTag

    ids = [idea.pk for idea in ideas]
    names: dict[int, list[str]] = {pk: [] for pk in ids}
    rows = IdeaTag.objects.filter(content_object_id__in=ids).values_list("content_object_id", "tag__name")
    for idea_id, name in rows.order_by("tag__name"):
        names[idea_id].append(name)
    return names


class WithTagNames:
    """Ideas to show as cards: evaluated on first use, each with ``tag_names`` attached in one extra query.

    Nothing is queried if the template never iterates (when the rendered grid comes from the cache).
    """

    def __init__(self, ideas: Iterable[Idea]) -> None:
        self._source = ideas
        self._rows: list[Idea] | None = None

    def _evaluate(self) -> list[Idea]:
        if self._rows is None:
            rows = list(self._source)
            names = tag_names_for(rows)
            for idea in rows:
                idea.tag_names = names.get(idea.pk, [])
            self._rows = rows
        return self._rows

    def __iter__(self) -> Any:
        return iter(self._evaluate())

    def __len__(self) -> int:
        return len(self._evaluate())


INSIGHT_SORTS = ("supporters", "revenue", "accounts", "must", "newest")


DEMAND_FIELDS = (
    "accounts",
    "account_revenue",
    "gold",
    "silver",
    "bronze",
    "must",
    "important",
    "would_buy",
    "quantity",
)


def with_demand(ideas: list[Idea]) -> list[Idea]:
    """Attach each idea's B2B figures (accounts, their revenue, supporters per tier, must-haves, important,
    would buy, quantity) with two grouped queries over the supports of these ideas only."""
    ids = [idea.pk for idea in ideas]
    counted = Support.objects.filter(idea_id__in=ids, counts=True).order_by()
    figures: dict[int, dict[str, Any]] = {
        row["idea_id"]: dict(row)
        for row in counted.values("idea_id").annotate(
            gold=Count("pk", filter=Q(user__organisation__tier="gold")),
            silver=Count("pk", filter=Q(user__organisation__tier="silver")),
            bronze=Count("pk", filter=Q(user__organisation__tier="bronze")),
            must=Count("pk", filter=Q(importance=Support.Importance.MUST_HAVE)),
            important=Count("pk", filter=Q(importance=Support.Importance.IMPORTANT)),
            would_buy=Count("pk", filter=Q(would_buy=True)),
            quantity=Sum("quantity"),
        )
    }
    pairs = list(
        counted.filter(user__organisation__isnull=False).values_list("idea_id", "user__organisation_id").distinct()
    )
    revenue = dict(Organisation.objects.filter(pk__in={org for _i, org in pairs}).values_list("pk", "annual_revenue"))
    accounts: dict[int, list[int]] = {}
    for idea_id, organisation_id in pairs:
        accounts.setdefault(idea_id, []).append(organisation_id)
    for idea in ideas:
        row: dict[str, Any] = figures.get(idea.pk, {})
        orgs = accounts.get(idea.pk, [])
        idea.accounts = len(orgs)
        idea.account_revenue = sum((revenue[o] for o in orgs), Decimal("0"))
        for name in ("gold", "silver", "bronze", "must", "important", "would_buy"):
            setattr(idea, name, row.get(name, 0))
        idea.quantity = row.get("quantity") or 0
    return ideas


def insight_ranking(*, sort: str, status: str = "", department: str = "") -> list[int]:
    """Idea ids in the order asked for, cached for a minute.

    Supporters and newest come from the ideas' own indexed columns. Revenue, accounts and must-haves are
    ranked by one grouped query over the supports (ideas without any are left out of those rankings).
    """
    from django.core.cache import cache
    from django.db import connection

    key = f"idea-insights:{sort}:{status}:{department}"
    cached = cache.get(key)
    if isinstance(cached, list):
        return cached
    ideas = Idea.objects.all()
    if status in Idea.Status.values:
        ideas = ideas.filter(status=status)
    if department and department in Idea.Department.values:
        ideas = ideas.filter(owner_department=department)
    if sort in ("supporters", "newest"):
        order = ("-supporters_count", "-id") if sort == "supporters" else ("-published_at", "-id")
        ranked = list(ideas.order_by(*order).values_list("pk", flat=True)[:5000])
    else:
        where, params = ["s.counts"], []
        if status in Idea.Status.values:
            where.append("i.status = %s")
            params.append(status)
        if department and department in Idea.Department.values:
            where.append("i.owner_department = %s")
            params.append(department)
        joins = (
            f"FROM {Support._meta.db_table} s JOIN {Idea._meta.db_table} i ON i.id = s.idea_id "
            f"JOIN {User._meta.db_table} u ON u.id = s.user_id"
        )
        if sort == "must":
            sql = (
                f"SELECT s.idea_id, COUNT(*) AS n {joins} WHERE {' AND '.join(where)} AND s.importance = 'must' "
                "GROUP BY s.idea_id ORDER BY n DESC, s.idea_id DESC LIMIT 5000"
            )
        else:
            measure = "SUM(o.annual_revenue)" if sort == "revenue" else "COUNT(*)"
            sql = (
                f"SELECT p.idea_id, {measure} AS n FROM (SELECT DISTINCT s.idea_id, u.organisation_id {joins} "  # noqa: S608
                f"WHERE {' AND '.join(where)} AND u.organisation_id IS NOT NULL) p "
                f"JOIN {Organisation._meta.db_table} o ON o.id = p.organisation_id "
                "GROUP BY p.idea_id ORDER BY n DESC, p.idea_id DESC LIMIT 5000"
            )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            ranked = [row[0] for row in cursor.fetchall()]
    cache.set(key, ranked, 60)
    return ranked


def status_totals() -> dict[str, int]:
    rows = Idea.objects.values("status").annotate(n=Count("pk")).values_list("status", "n")
    totals = dict(rows)
    return {value: totals.get(value, 0) for value in Idea.Status.values}
