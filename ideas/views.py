"""Pages of the ideas app: thin adapters over selectors and services."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from cocreate.errors import DomainError
from cocreate.models import User
from cocreate.roles import Role, has_role, is_staff_role
from ideas import forms, selectors, services
from ideas.models import (
    PUBLIC_STATUSES,
    Comment,
    Follow,
    Idea,
    IdeaCampaignPage,
    IdeaCoCreator,
    IdeaMerge,
    InternalNote,
    Notification,
    NotificationPreference,
    StatusChange,
    Support,
)
from ideas.paginators import CachedCountPaginator

SORTS = {
    "trending": ("-trending_score", "-id"),
    "supported": ("-supporters_count", "-id"),
    "newest": ("-published_at", "-id"),
    "ending": ("deadline", "id"),
}
SORT_LABELS = {
    "trending": gettext_lazy("Trending"),
    "supported": gettext_lazy("Most supported"),
    "newest": gettext_lazy("Newest"),
    "ending": gettext_lazy("Ending soon"),
}
LISTED_STATUSES = sorted(PUBLIC_STATUSES - {Idea.Status.MERGED})
PAGE_SIZE = 20
LIST_CACHE_SECONDS = 10


def _user(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise PermissionDenied(_("Please log in."))
    return user


def campaign_context(*, request: HttpRequest, campaign: IdeaCampaignPage) -> dict[str, Any]:
    """The campaign page's list of public ideas: sorted, filtered, searched and paginated.

    The number of queries is the same for every page: count, page rows with creators, tags of the page.
    """
    sort = request.GET.get("sort", "trending")
    if sort not in SORTS:
        sort = "trending"
    status = request.GET.get("status", "")
    tag = request.GET.get("tag", "").strip().lower()
    query = request.GET.get("q", "").strip()[:200]
    ideas = Idea.objects.filter(campaign=campaign, status__in=LISTED_STATUSES)
    if status in LISTED_STATUSES:
        ideas = ideas.filter(status=status)
    if tag:
        ideas = ideas.filter(tags__name=tag)
    if sort == "ending":
        ideas = ideas.filter(status=Idea.Status.PUBLISHED, deadline__isnull=False)
    # The cards show no description: leave the longest column in the table.
    ideas = ideas.order_by(*SORTS[sort]).defer("description").select_related("creator")
    listing: Any = selectors.ideas_search(queryset=ideas, query=query) if query else ideas
    page = CachedCountPaginator(listing, PAGE_SIZE).get_page(request.GET.get("page"))
    first_milestone = campaign.milestone_list()[0][0]
    return {
        "page_obj": page,
        "ideas": selectors.WithTagNames(page.object_list),
        "sort": sort,
        "sorts": list(SORT_LABELS.items()),
        "status_filter": status,
        "statuses": [(value, Idea.Status(value).label) for value in LISTED_STATUSES],
        "tag": tag,
        "query": query,
        "popular_tags": _popular_tags(campaign),
        "may_submit": campaign.accepting_ideas and selectors.campaign_for_user(campaign=campaign, user=request.user),
        "milestones": campaign.milestone_list(),
        "first_milestone": first_milestone,
        "list_cache_seconds": LIST_CACHE_SECONDS,
    }


def _popular_tags(campaign: IdeaCampaignPage) -> list[str]:
    """The campaign's most used tags on ideas gathering support (cached for five minutes)."""
    from ideas.models import IdeaTag

    key = f"idea-popular-tags:{campaign.pk}"
    cached = cache.get(key)
    if isinstance(cached, list):
        return cached
    rows = (
        IdeaTag.objects.filter(content_object__campaign=campaign, content_object__status=Idea.Status.PUBLISHED)
        .values("tag__name")
        .annotate(n=Count("id"))
        .order_by("-n", "tag__name")[:12]
    )
    tags = [row["tag__name"] for row in rows]
    cache.set(key, tags, 300)
    return tags


def index(request: HttpRequest) -> HttpResponse:
    """All live campaigns; with exactly one, go straight to it."""
    campaigns = list(IdeaCampaignPage.objects.live().order_by("-first_published_at"))
    if len(campaigns) == 1:
        return redirect(campaigns[0].url)
    counts = dict(
        Idea.objects.filter(status=Idea.Status.PUBLISHED)
        .values("campaign_id")
        .annotate(n=Count("id"))
        .values_list("campaign_id", "n")
    )
    for campaign in campaigns:
        campaign.published_ideas = counts.get(campaign.pk, 0)
    ideas_count, supporters = selectors.public_figures()
    return render(
        request,
        "ideas/index.html",
        {
            "campaigns": campaigns,
            "figures": {"ideas": ideas_count, "supporters": supporters},
            "top": selectors.WithTagNames(selectors.most_supported_ideas(limit=5)),
        },
    )


def _idea_or_404(request: HttpRequest, pk: int) -> Idea:
    idea = get_object_or_404(Idea.objects.select_related("campaign", "creator", "merged_into"), pk=pk)
    if not selectors.can_see_idea(idea=idea, user=request.user):
        raise Http404
    return idea


def detail(request: HttpRequest, pk: int) -> HttpResponse:
    idea = _idea_or_404(request, pk)
    user = request.user
    is_pm = has_role(user, Role.PRODUCT_MANAGER)
    comments = (
        Comment.objects.filter(idea=idea, parent__isnull=True, hidden_at__isnull=True)
        .select_related("author")
        .prefetch_related(
            Prefetch(
                "replies",
                queryset=Comment.objects.filter(hidden_at__isnull=True).select_related("author").order_by("id"),
            )
        )
        .order_by("id")
    )
    now = timezone.now()
    for top in comments:
        for c in [top, *top.replies.all()]:
            c.may_edit = selectors.comment_may_edit(comment=c, user=user, now=now)  # type: ignore[attr-defined]
            c.may_delete = selectors.comment_may_delete(comment=c, user=user)  # type: ignore[attr-defined]
    support = Support.objects.filter(idea=idea, user_id=user.pk).first() if user.is_authenticated else None
    following = user.is_authenticated and Follow.objects.filter(idea=idea, user_id=user.pk).exists()
    cocreators = list(IdeaCoCreator.objects.filter(idea=idea).select_related("user"))
    invitation = next((c for c in cocreators if c.user_id == user.pk and not c.accepted_at and not c.declined_at), None)
    milestones = idea.campaign.milestone_list()
    next_goal = next((s for s, _d in milestones if s > idea.supporters_count), milestones[-1][0])
    context = {
        "idea": idea,
        "page": idea.campaign,
        "comments": comments,
        "official": [c for c in comments if c.kind == Comment.Kind.OFFICIAL and c.deleted_at is None],
        "support": support,
        "following": following,
        "cocreators": [c for c in cocreators if c.accepted_at],
        "invitation": invitation,
        "is_creator": selectors.is_idea_creator(idea=idea, user=user),
        "may_take_part": selectors.campaign_for_user(campaign=idea.campaign, user=user),
        "is_pm": is_pm,
        "history": StatusChange.objects.filter(idea=idea).order_by("created_at"),
        "images": idea.images.all(),
        "next_goal": next_goal,
        "progress": min(100, round(100 * idea.supporters_count / next_goal)) if next_goal else 100,
        "comment_form": forms.CommentForm(),
        "importance_choices": Support.Importance.choices[1:],
        # Forward moves first, archiving last.
        "allowed_moves": sorted(services.ALLOWED_MOVES.get(idea.status, ()), key=lambda s: (s == "archived", s)),
        "status_labels": dict(Idea.Status.choices),
        "now": now,
    }
    return render(request, "ideas/idea_detail.html", context)


@login_required
def submit(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(IdeaCampaignPage.objects.live(), pk=campaign_id)
    user = _user(request)
    if not selectors.campaign_for_user(campaign=campaign, user=user):
        raise PermissionDenied(_("You may not submit ideas to this campaign."))
    again = None
    if again_id := request.GET.get("again", ""):
        again = Idea.objects.filter(pk=again_id if again_id.isdigit() else 0, creator=user).first()
    initial = {}
    if again is not None:
        initial = {"title": again.title, "summary": again.summary, "description": again.description}
    form = forms.IdeaForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            idea = services.idea_submit(
                campaign=campaign,
                creator=user,
                title=form.cleaned_data["title"],
                summary=form.cleaned_data["summary"],
                description=form.cleaned_data["description"],
                terms_accepted=form.cleaned_data["terms_accepted"],
                tags=form.tag_list(),
                cocreators=form.cocreator_list(),
                images=form.cleaned_data["images"],
                resubmitted_from=again,
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            if idea.status == Idea.Status.PENDING:
                messages.success(request, _("Thank you! A product manager will review your idea before it is public."))
            else:
                messages.success(request, _("Your idea is published."))
            return redirect(idea.get_absolute_url())
    return render(request, "ideas/submit.html", {"form": form, "campaign": campaign, "page": campaign})


@login_required
def resubmit(request: HttpRequest, pk: int) -> HttpResponse:
    idea = _idea_or_404(request, pk)
    user = _user(request)
    if idea.creator_id != user.pk:
        raise PermissionDenied(_("Only the creator may resubmit this idea."))
    initial = {
        "title": idea.title,
        "summary": idea.summary,
        "description": idea.description,
        "tags": ", ".join(idea.tags.names()),
    }
    form = forms.IdeaForm(request.POST or None, initial=initial, resubmit=True)
    if request.method == "POST" and form.is_valid():
        try:
            services.idea_resubmit(
                idea=idea,
                user=user,
                title=form.cleaned_data["title"],
                summary=form.cleaned_data["summary"],
                description=form.cleaned_data["description"],
                tags=form.tag_list(),
            )
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your idea is back in the moderation queue."))
            return redirect(idea.get_absolute_url())
    return render(request, "ideas/submit.html", {"form": form, "campaign": idea.campaign, "idea": idea})


@require_POST
@login_required
def comment(request: HttpRequest, pk: int) -> HttpResponse:
    idea = _idea_or_404(request, pk)
    form = forms.CommentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please write a comment."))
        return redirect(idea.get_absolute_url())
    parent = None
    if form.cleaned_data["parent"]:
        parent = get_object_or_404(Comment, pk=form.cleaned_data["parent"], idea=idea)
    try:
        created = services.comment_add(
            idea=idea,
            author=_user(request),
            body=form.cleaned_data["body"],
            parent=parent,
            kind=form.cleaned_data["kind"] or Comment.Kind.COMMENT,
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(idea.get_absolute_url())
    return redirect(f"{idea.get_absolute_url()}#comment-{created.pk}")


def _comment_or_404(idea: Idea, comment_id: int) -> Comment:
    return get_object_or_404(Comment.objects.select_related("idea"), pk=comment_id, idea=idea, hidden_at__isnull=True)


@require_POST
@login_required
def comment_edit(request: HttpRequest, pk: int, comment_id: int) -> HttpResponse:
    idea = _idea_or_404(request, pk)
    target = _comment_or_404(idea, comment_id)
    user = _user(request)
    if target.author_id != user.pk:
        raise PermissionDenied(_("Only the author may edit a comment."))
    try:
        services.comment_edit(comment=target, actor=user, body=request.POST.get("body", ""))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your comment was updated."))
    return redirect(f"{idea.get_absolute_url()}#comment-{target.pk}")


@require_POST
@login_required
def comment_delete(request: HttpRequest, pk: int, comment_id: int) -> HttpResponse:
    idea = _idea_or_404(request, pk)
    target = _comment_or_404(idea, comment_id)
    user = _user(request)
    if not selectors.comment_may_delete(comment=target, user=user):
        raise PermissionDenied(_("You may not delete this comment."))
    try:
        services.comment_delete(comment=target, actor=user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The comment was deleted."))
    return redirect(f"{idea.get_absolute_url()}#comment-{target.pk}")


@require_POST
@login_required
def follow(request: HttpRequest, pk: int) -> HttpResponse:
    idea = _idea_or_404(request, pk)
    services.follow_set(idea=idea, user=_user(request), follow=request.POST.get("follow") == "1")
    return redirect(idea.get_absolute_url())


@require_POST
@login_required
def report(request: HttpRequest, pk: int) -> HttpResponse:
    idea = _idea_or_404(request, pk)
    form = forms.ReportForm(request.POST)
    if form.is_valid():
        target = None
        if form.cleaned_data["comment"]:
            target = get_object_or_404(Comment, pk=form.cleaned_data["comment"], idea=idea)
        try:
            services.report_create(
                reporter=_user(request), idea=idea, comment=target, reason=form.cleaned_data["reason"]
            )
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Thank you. A moderator will look at it."))
    else:
        messages.error(request, _("Please say what is wrong."))
    return redirect(idea.get_absolute_url())


@require_POST
@login_required
def invitation(request: HttpRequest, pk: int) -> HttpResponse:
    idea = _idea_or_404(request, pk)
    user = _user(request)
    cocreator = get_object_or_404(IdeaCoCreator, idea=idea, user=user)
    try:
        services.cocreator_respond(cocreator=cocreator, user=user, accept=request.POST.get("accept") == "1")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect(idea.get_absolute_url())


def _idea_list(request: HttpRequest, ideas: Any, title: str, empty: str) -> HttpResponse:
    page = Paginator(
        ideas.select_related("campaign", "creator").defer("description").order_by("-created_at", "-id"), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "ideas/idea_list.html",
        {"page_obj": page, "ideas": selectors.WithTagNames(page.object_list), "title": title, "empty": empty},
    )


@login_required
def my_ideas(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    invited = IdeaCoCreator.objects.filter(user=user, declined_at__isnull=True).values("idea_id")
    return _idea_list(
        request,
        Idea.objects.filter(Q(creator=user) | Q(pk__in=invited)),
        _("My ideas"),
        _("You have not submitted an idea yet."),
    )


@login_required
def supported_ideas(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return _idea_list(
        request,
        Idea.objects.filter(supports__user=user, status__in=PUBLIC_STATUSES),
        _("Ideas I support"),
        _("You do not support any idea yet."),
    )


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    preference = NotificationPreference.objects.filter(user=user).first()
    form = forms.PreferenceForm(
        request.POST or None,
        initial={"email": preference.email if preference else NotificationPreference.Email.IMMEDIATE},
    )
    if request.method == "POST":
        if request.POST.get("action") == "read":
            services.notifications_mark_read(user=user)
            return redirect("ideas:notifications")
        if form.is_valid():
            services.notification_preference_set(user=user, email=form.cleaned_data["email"])
            messages.success(request, _("Your preference was saved."))
            return redirect("ideas:notifications")
    page = Paginator(
        Notification.objects.filter(user=user).select_related("idea").order_by("-created_at", "-id"), 30
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "ideas/notifications.html",
        {
            "page_obj": page,
            "items": page.object_list,
            "unread": selectors.unread_notifications_count(user),
            "form": form,
        },
    )


def _require_pm(request: HttpRequest) -> User:
    user = _user(request)
    if not has_role(user, Role.PRODUCT_MANAGER):
        raise PermissionDenied(_("Only product managers may see this."))
    return user


@login_required
def demand(request: HttpRequest, pk: int) -> HttpResponse:
    """The B2B view of one idea for product managers: demand by account and tier, notes, triage, proxy support."""
    user = _require_pm(request)
    idea = _idea_or_404(request, pk)
    note_form = forms.NoteForm(prefix="note")
    proxy_form = forms.ProxySupportForm(prefix="proxy")
    if request.method == "POST":
        try:
            if "note-body" in request.POST:
                note_form = forms.NoteForm(request.POST, prefix="note")
                if note_form.is_valid():
                    services.internal_note_add(idea=idea, author=user, body=note_form.cleaned_data["body"])
                    return redirect("ideas:demand", pk=idea.pk)
            elif "proxy-email" in request.POST:
                proxy_form = forms.ProxySupportForm(request.POST, prefix="proxy")
                if proxy_form.is_valid():
                    contact = User.objects.filter(email__iexact=proxy_form.cleaned_data["email"]).first()
                    if contact is None:
                        proxy_form.add_error("email", _("No member has this e-mail address."))
                    else:
                        services.support_add(
                            idea=idea,
                            user=contact,
                            recorded_by=user,
                            importance=proxy_form.cleaned_data["importance"] or "",
                            would_buy=proxy_form.cleaned_data["would_buy"],
                            quantity=proxy_form.cleaned_data["quantity"],
                        )
                        messages.success(request, _("Proxy support recorded."))
                        return redirect("ideas:demand", pk=idea.pk)
        except DomainError as error:
            messages.error(request, error.message)
    response_time = None
    if idea.first_official_response_at and idea.published_at:
        response_time = idea.first_official_response_at - idea.published_at
    return render(
        request,
        "ideas/demand.html",
        {
            "idea": idea,
            "demand": selectors.idea_demand(idea=idea),
            "notes": InternalNote.objects.filter(idea=idea).select_related("author"),
            "note_form": note_form,
            "proxy_form": proxy_form,
            "triage_form": forms.TriageForm(instance=idea),
            "response_time": response_time,
            "merges": IdeaMerge.objects.filter(Q(source=idea) | Q(target=idea)).select_related("source", "target"),
        },
    )


@require_POST
@login_required
def triage(request: HttpRequest, pk: int) -> HttpResponse:
    user = _require_pm(request)
    idea = _idea_or_404(request, pk)
    form = forms.TriageForm(request.POST, instance=Idea.objects.get(pk=idea.pk))
    if form.is_valid():
        services.idea_triage(
            idea=idea,
            actor=user,
            owner_department=form.cleaned_data["owner_department"],
            impact=form.cleaned_data["impact"],
            effort=form.cleaned_data["effort"],
        )
        messages.success(request, _("Saved."))
    else:
        messages.error(request, _("Impact and effort are between 1 and 10."))
    return redirect("ideas:demand", pk=idea.pk)


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    """Every idea with its B2B figures, for product managers (streamed; one query for the ideas and one
    aggregate per batch of supports)."""
    _require_pm(request)
    ideas = Idea.objects.select_related("campaign", "creator").defer("description").order_by("pk")
    header = [
        "id",
        "campaign",
        "title",
        "status",
        "creator",
        "supporters",
        "accounts",
        "account_revenue",
        "gold",
        "silver",
        "bronze",
        "must_have",
        "important",
        "would_buy",
        "quantity",
        "owner_department",
        "impact",
        "effort",
        "priority",
        "published_at",
        "first_official_response_hours",
    ]

    def rows() -> Any:
        writer = csv.writer(_Echo())
        yield writer.writerow(header)
        for idea in _in_chunks_with_demand(ideas):
            response_hours = ""
            if idea.first_official_response_at and idea.published_at:
                delta = idea.first_official_response_at - idea.published_at
                response_hours = f"{delta.total_seconds() / 3600:.1f}"
            yield writer.writerow(
                [
                    idea.pk,
                    idea.campaign.title,
                    _csv_safe(idea.title),
                    idea.status,
                    _csv_safe(idea.creator.public_name),
                    idea.supporters_count,
                    idea.accounts,
                    f"{idea.account_revenue:.2f}",
                    idea.gold,
                    idea.silver,
                    idea.bronze,
                    idea.must,
                    idea.important,
                    idea.would_buy,
                    idea.quantity or 0,
                    idea.owner_department,
                    idea.impact or "",
                    idea.effort or "",
                    idea.priority_score or "",
                    idea.published_at.isoformat() if idea.published_at else "",
                    response_hours,
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="ideas.csv"'
    return response


def _csv_safe(value: str) -> str:
    """Spreadsheet apps run cells starting with = + - @ as formulas; prefix them so they stay text."""
    return f"'{value}" if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value


@require_POST
@login_required
def merge(request: HttpRequest, pk: int) -> HttpResponse:
    """Merge this idea (a duplicate) into the idea whose number the product manager gives."""
    user = _require_pm(request)
    source = _idea_or_404(request, pk)
    target_id = request.POST.get("target", "").strip().lstrip("#")
    target = Idea.objects.filter(pk=int(target_id)).first() if target_id.isdigit() else None
    if target is None:
        messages.error(request, _("There is no idea with that number."))
        return redirect("ideas:demand", pk=source.pk)
    try:
        services.idea_merge(source=source, target=target, actor=user, reason=request.POST.get("reason", ""))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("ideas:demand", pk=source.pk)
    messages.success(request, _("Merged. The supporters moved over."))
    return redirect(target.get_absolute_url())


@require_POST
@login_required
def unmerge(request: HttpRequest, pk: int) -> HttpResponse:
    user = _require_pm(request)
    record = get_object_or_404(IdeaMerge, pk=pk)
    try:
        source = services.idea_unmerge(merge=record, actor=user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("ideas:demand", pk=record.source_id)
    messages.success(request, _("The merge was undone."))
    return redirect(source.get_absolute_url())


@login_required
def demand_overview(request: HttpRequest) -> HttpResponse:
    """Demand across ideas for the company's staff: status totals and the ideas ranked by what matters to
    the business (supporters, accounts, their revenue, must-haves)."""
    if not is_staff_role(request.user):
        raise PermissionDenied(_("Only staff may see this."))
    sort = request.GET.get("sort", "supporters")
    if sort not in selectors.INSIGHT_SORTS:
        sort = "supporters"
    status = request.GET.get("status", "")
    department = request.GET.get("department", "")
    ranking = selectors.insight_ranking(sort=sort, status=status, department=department)
    page = Paginator(ranking, 50).get_page(request.GET.get("page"))
    rows = {idea.pk: idea for idea in Idea.objects.filter(pk__in=list(page.object_list)).select_related("campaign")}
    ideas = selectors.with_demand([rows[pk] for pk in page.object_list if pk in rows])
    published, supporters = selectors.public_figures()
    return render(
        request,
        "ideas/demand_overview.html",
        {
            "page_obj": page,
            "ideas": ideas,
            "sort": sort,
            "sorts": [
                ("supporters", _("Supporters")),
                ("accounts", _("Accounts")),
                ("revenue", _("Account revenue")),
                ("must", _("Must have")),
                ("newest", _("Newest")),
            ],
            "status_filter": status,
            "department": department,
            "statuses": Idea.Status.choices,
            "departments": [c for c in Idea.Department.choices if c[0]],
            "totals": [(Idea.Status(v).label, v, n) for v, n in selectors.status_totals().items()],
            "figures": {"ideas": published, "supporters": supporters},
            "is_pm": has_role(request.user, Role.PRODUCT_MANAGER),
        },
    )


def _in_chunks_with_demand(ideas: Any, size: int = 1000) -> Any:
    """Ideas in primary-key order, a chunk at a time, each chunk with its B2B figures attached."""
    last = 0
    while True:
        chunk = list(ideas.filter(pk__gt=last)[:size])
        if not chunk:
            return
        yield from selectors.with_demand(chunk)
        last = chunk[-1].pk
