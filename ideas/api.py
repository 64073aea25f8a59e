"""REST endpoints of the ideas app, mounted under /api/ by cocreate.urls.

Views fetch and authorise, validate with a serializer, call one service and answer; the rules are in
``ideas.services``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import URLPattern, URLResolver, path
from django.utils import timezone, translation
from django.utils.html import format_html
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from boards.api import IdeaOutcomesSerializer, idea_outcomes_data
from boards.selectors import idea_outcomes
from cocreate import authentication, page_routes
from cocreate.errors import NotFoundError
from cocreate.models import User
from cocreate.roles import Role, has_role
from cocreate.sanitize import clean_html
from cocreate.versions import versions_prefetched
from ideas import list_cache, selectors, services
from ideas.models import Comment, Idea, IdeaCampaignPage, Support
from ideas.paginators import IdeaPagination

ORDERINGS = {
    "-supporters": ("-supporters_count", "-id"),
    "supporters": ("supporters_count", "id"),
    "-published": ("-published_at", "-id"),
    "published": ("published_at", "id"),
    "deadline": ("deadline", "id"),
    "-trending": ("-trending_score", "-id"),
    "-created": ("-id",),
}


# The largest id a 64-bit primary key holds; larger numbers are refused before they reach the database.
MAX_ID = 2**63 - 1


class IdeaSerializer(serializers.ModelSerializer[Idea]):
    supporters = serializers.IntegerField(source="supporters_count", read_only=True)
    comments = serializers.IntegerField(source="comments_count", read_only=True)
    description_html = serializers.SerializerMethodField()
    campaign = serializers.IntegerField(source="campaign_id", read_only=True)
    creator = serializers.CharField(source="creator.public_name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    tags = serializers.SerializerMethodField()
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Idea
        fields = [
            "id",
            "campaign",
            "title",
            "summary",
            "description_html",
            "status",
            "status_label",
            "status_reason",
            "creator",
            "supporters",
            "comments",
            "deadline",
            "published_at",
            "created_at",
            "tags",
            "product_codes",
            "launch_date",
            "merged_into",
            "url",
        ]
        read_only_fields = fields

    def get_description_html(self, idea: Idea) -> str:
        return selectors.description_html(idea)

    def get_tags(self, idea: Idea) -> list[str]:
        names: list[str] | None = getattr(idea, "tag_names", None)
        return names if names is not None else sorted(tag.name for tag in idea.tags.all())

    def to_representation(self, instance: Idea) -> dict[str, Any]:
        """Built by hand: list pages serialise 25 ideas per request, and the generic field machinery
        (per-field attribute lookups, signature inspection) cost more than the queries."""
        html = self.context.get("descriptions", {}).get(instance.pk)
        # A not-approved reason is public only when the product manager chose so.
        hide_reason = instance.status == Idea.Status.NOT_APPROVED and not instance.not_approved_public
        return {
            "id": instance.pk,
            "campaign": instance.campaign_id,
            "title": instance.title,
            "summary": instance.summary,
            "description_html": html if html is not None else selectors.description_html(instance),
            "status": instance.status,
            "status_label": str(Idea.Status(instance.status).label),
            "status_reason": "" if hide_reason else instance.status_reason,
            "creator": instance.creator.public_name,
            "supporters": instance.supporters_count,
            "comments": instance.comments_count,
            "deadline": _DATETIME.to_representation(instance.deadline) if instance.deadline else None,
            "published_at": _DATETIME.to_representation(instance.published_at) if instance.published_at else None,
            "created_at": _DATETIME.to_representation(instance.created_at),
            "tags": self.get_tags(instance),
            "product_codes": instance.product_codes,
            "launch_date": instance.launch_date.isoformat() if instance.launch_date else None,
            "merged_into": instance.merged_into_id,
            "url": f"{_IDEAS_PREFIX}{instance.pk}/",
        }


_DATETIME = serializers.DateTimeField()
_IDEAS_PREFIX = "/ideas/"


class IdeaCreateSerializer(serializers.Serializer[Any]):
    campaign = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    title = serializers.CharField(max_length=services.TITLE_MAX)
    summary = serializers.CharField(max_length=services.SUMMARY_MAX)
    description = serializers.CharField(max_length=services.DESCRIPTION_MAX)
    terms_accepted = serializers.BooleanField()
    tags = serializers.ListField(
        child=serializers.CharField(max_length=services.TAG_MAX), required=False, max_length=services.TAGS_MAX
    )
    cocreators = serializers.ListField(
        child=serializers.CharField(max_length=254), required=False, max_length=services.COCREATORS_MAX
    )
    # multipart/form-data only; the type and size checks are the service's, the same as the web form's.
    images = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False), required=False, max_length=services.IMAGES_MAX
    )


def _idea_queryset(user: Any) -> QuerySet[Idea]:
    return selectors.ideas_visible_to(user).exclude(status=Idea.Status.MERGED).select_related("creator")


def _list_count_key(user: Any, params: Any) -> str:
    """What the list's total depends on: whose view (``ideas_visible_to``) and the filters (not the ordering).
    Checked against the SQL key by ``test_list_count_key_names_what_the_total_depends_on``."""
    if has_role(user, Role.PRODUCT_MANAGER):
        viewer = "all"
    elif user.is_authenticated:
        viewer = f"user:{user.pk}"
    else:
        viewer = "public"
    filters = {name: params.get(name, "") for name in ("campaign", "status", "tag", "mine")}
    filters["tag"] = filters["tag"].lower()
    filters["q"] = params.get("q", "").strip()
    return f"api-list|{viewer}|{json.dumps(filters, sort_keys=True)}"


def _list_page_key(request: Request) -> str | None:
    """What a page of the list depends on (see ``ideas.list_cache``), or None for a page number that is not a
    plain number. Parameters are taken as ``IdeaListView.get_queryset`` reads them; values it refuses are never
    stored, so a key made of them finds nothing and the view answers the error."""
    params = request.query_params
    page = params.get("page") or "1"
    if not (page.isascii() and page.isdigit()):
        return None
    viewer = list_cache.viewer_class(request.user)
    if params.get("mine") and request.user.is_authenticated:
        viewer = f"user:{request.user.pk}"
    parts = {
        "viewer": viewer,
        "campaign": params.get("campaign", ""),
        "status": params.get("status", ""),
        "tag": params.get("tag", "").lower(),
        "mine": params.get("mine", ""),
        "q": params.get("q", "").strip(),
        "ordering": params.get("ordering", "-published"),
        "page": int(page),
        "language": translation.get_language() or "",
        "time_zone": timezone.get_current_timezone_name(),  # the dates are written in it
    }
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
    return f"idea-list-page:{digest}"


def _page_response(request: Request, page: list_cache.CachedPage) -> HttpResponse:
    """The list's JSON, as DRF's page number pagination writes it, around the stored results."""
    url = request.build_absolute_uri()
    page_number = int(request.query_params.get("page") or 1)
    next_link = replace_query_param(url, "page", page_number + 1) if page.has_next else None
    previous_link = None
    if page.has_previous:
        previous_link = (
            remove_query_param(url, "page") if page_number == 2 else replace_query_param(url, "page", page_number - 1)
        )
    head = JSONRenderer().render({"count": page.count, "next": next_link, "previous": previous_link})
    return HttpResponse(head[:-1] + b',"results":' + page.results + b"}", content_type="application/json")


class IdeaListView(generics.ListCreateAPIView[Idea]):
    """Public ideas (and your own pending ones), filtered and sorted; POST submits a new idea."""

    serializer_class = IdeaSerializer
    pagination_class = IdeaPagination
    count_key: str | None = None
    lists_version = ""  # the version of the idea lists the page being built belongs to (see ``list``)

    def get_queryset(self) -> QuerySet[Idea]:
        params = self.request.query_params
        if any("\x00" in value for value in params.values()):
            raise serializers.ValidationError({"detail": "Query parameters may not contain NUL characters."})
        # Under the list version when there is one (``list``): a page built after a write counts the ideas anew,
        # so its total always agrees with its rows.
        self.count_key = _list_count_key(self.request.user, params) + (
            f"|{self.lists_version}" if self.lists_version else ""
        )
        ideas = _idea_queryset(self.request.user)
        if campaign := params.get("campaign"):
            if not (campaign.isascii() and campaign.isdigit()) or int(campaign) > MAX_ID:
                raise serializers.ValidationError({"campaign": "Must be a campaign id."})
            ideas = ideas.filter(campaign_id=int(campaign))
        if status_filter := params.get("status"):
            if status_filter not in Idea.Status.values:
                raise serializers.ValidationError({"status": "Unknown status."})
            ideas = ideas.filter(status=status_filter)
        if tag := params.get("tag"):
            ideas = ideas.filter(tags__name=tag.lower())
        if mine := params.get("mine"):
            if not self.request.user.is_authenticated:
                ideas = ideas.none()
            elif mine == "created":
                ideas = ideas.filter(creator_id=self.request.user.pk)
            elif mine == "supported":
                ideas = ideas.filter(supports__user_id=self.request.user.pk)
        ordering = params.get("ordering", "-published")
        if ordering not in ORDERINGS:
            raise serializers.ValidationError({"ordering": f"One of {', '.join(ORDERINGS)}."})
        ideas = ideas.order_by(*ORDERINGS[ordering])
        if query := params.get("q", "").strip():
            # The search backend filters only on indexed fields, and visibility, tags and supports are
            # joins or per-user conditions: search within the filtered rows by primary key instead.
            narrowed = Idea.objects.select_related("creator").filter(pk__in=ideas.values("pk"))
            narrowed = narrowed.order_by(*ORDERINGS[ordering])
            return selectors.ideas_search(queryset=narrowed, query=query)
        return ideas

    @extend_schema(
        parameters=[
            OpenApiParameter("campaign", int),
            OpenApiParameter("status", str, enum=Idea.Status.values),
            OpenApiParameter("tag", str),
            OpenApiParameter("q", str, description="Full-text search"),
            OpenApiParameter("mine", str, enum=["created", "supported"]),
            OpenApiParameter("ordering", str, enum=list(ORDERINGS)),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:  # type: ignore[override]
        """A page from ``ideas.list_cache`` when one was built at the current version, else built and stored.
        Both are answered by ``_page_response``, so a cached page reads exactly as a fresh one."""
        key = _list_page_key(request)
        if key is None:  # a page number such as "last": built every time
            return super().list(request, *args, **kwargs)
        version, cached = list_cache.page_get(key)
        if cached is not None:
            return _page_response(request, cached)
        self.lists_version = version
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        assert page is not None
        assert self.paginator is not None
        django_page = self.paginator.page  # type: ignore[attr-defined]
        built = list_cache.CachedPage(
            version=version,
            count=django_page.paginator.count,
            has_next=django_page.has_next(),
            has_previous=django_page.has_previous(),
            results=JSONRenderer().render(self.get_serializer(page, many=True).data),
        )
        list_cache.page_set(key, built)
        return _page_response(request, built)

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "descriptions": self._descriptions}

    _descriptions: dict[int, str] = {}

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)
        if page is not None:
            self._descriptions = selectors.descriptions_html(page)
            names = selectors.tag_names_for(page)
            for idea in page:
                idea.tag_names = names[idea.pk]
        return page

    @extend_schema(
        request={"application/json": IdeaCreateSerializer, "multipart/form-data": IdeaCreateSerializer},
        responses={201: IdeaSerializer},
        description="Submit an idea for moderation. Send images (JPEG, PNG, WebP or GIF, up to 6 of 5 MB) as "
        "multipart/form-data, repeating the ``images`` field.",
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = IdeaCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        campaign = IdeaCampaignPage.objects.live().filter(pk=values["campaign"]).first()
        if campaign is None:
            raise NotFoundError("This campaign does not exist.")
        idea = services.idea_submit(
            campaign=campaign,
            creator=_user(request),
            title=values["title"],
            summary=values["summary"],
            description=values["description"],
            terms_accepted=values["terms_accepted"],
            tags=values.get("tags", []),
            cocreators=values.get("cocreators", []),
            images=values.get("images", []),
        )
        return Response(IdeaSerializer(idea).data, status=status.HTTP_201_CREATED)


def _user(request: Request) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _idea_for(request: Request, pk: int) -> Idea:
    idea = Idea.objects.select_related("campaign", "creator").filter(pk=pk).first()
    if idea is None or not selectors.can_see_idea(idea=idea, user=request.user):
        raise NotFoundError("This idea does not exist.")
    return idea


def _supportable_idea_for(request: Request, pk: int) -> Idea:
    """``_idea_for`` for supporting and withdrawing: only the columns those need, and the campaign from the
    process's table."""
    idea = selectors.idea_for_support(idea_id=pk)
    if idea is None or not selectors.can_see_idea(idea=idea, user=request.user):
        raise NotFoundError("This idea does not exist.")
    campaign = selectors.campaign_kept(campaign_id=idea.campaign_id)
    if campaign is None:
        raise NotFoundError("This idea does not exist.")
    idea.campaign = campaign
    return idea


class IdeaDetailSerializer(IdeaSerializer):
    board_outcomes = serializers.SerializerMethodField(
        help_text="For staff and product managers: advisory-board sessions that discussed the idea (else null)."
    )

    class Meta(IdeaSerializer.Meta):
        fields = [*IdeaSerializer.Meta.fields, "board_outcomes"]

    def to_representation(self, instance: Idea) -> dict[str, Any]:
        return {**super().to_representation(instance), "board_outcomes": self.get_board_outcomes(instance)}

    @extend_schema_field(IdeaOutcomesSerializer(allow_null=True))
    def get_board_outcomes(self, idea: Idea) -> dict[str, Any] | None:
        user = self.context["request"].user
        if not (user.is_staff or has_role(user, Role.PRODUCT_MANAGER)):
            return None
        return idea_outcomes_data(idea_outcomes(idea=idea, user=user))


class IdeaDetailView(APIView):
    @extend_schema(responses=IdeaDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(IdeaDetailSerializer(_idea_for(request, pk), context={"request": request}).data)


class SupportSerializer(serializers.Serializer[Any]):
    importance = serializers.ChoiceField(choices=Support.Importance.choices, required=False, default="")
    would_buy = serializers.BooleanField(required=False, allow_null=True, default=None)
    quantity = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=services.QUANTITY_MAX
    )


SupportResponse = inline_serializer(
    "SupportResponse", {"supporters": serializers.IntegerField(), "supported": serializers.BooleanField()}
)


class SupportView(APIView):
    """Support an idea (POST) or withdraw (DELETE); both are idempotent and answer with the count."""

    permission_classes = [IsAuthenticated]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # A support checks two per-process tables, the API tokens' and the campaigns': their versions in one
        # cache round trip (``cocreate.versions``).
        with versions_prefetched(authentication.VERSION_KEY, page_routes.VERSION_KEY):
            return super().dispatch(request, *args, **kwargs)

    @extend_schema(request=SupportSerializer, responses={200: SupportResponse, 201: SupportResponse})
    def post(self, request: Request, pk: int) -> Response:
        idea = _supportable_idea_for(request, pk)
        data = SupportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.support_add(idea=idea, user=_user(request), **data.validated_data)
        return Response(
            {"supporters": result.supporters, "supported": True},
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )

    @extend_schema(request=None, responses={200: SupportResponse})
    def delete(self, request: Request, pk: int) -> Response:
        idea = _supportable_idea_for(request, pk)
        result = services.support_withdraw(idea=idea, user=_user(request))
        return Response({"supporters": result.supporters, "supported": False})


class CommentSerializer(serializers.ModelSerializer[Comment]):
    author = serializers.SerializerMethodField()
    body_html = serializers.SerializerMethodField()
    official = serializers.SerializerMethodField()
    deleted = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = ["id", "parent", "kind", "official", "author", "body_html", "created_at", "edited_at", "deleted"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_author(self, comment: Comment) -> str | None:
        return None if comment.deleted_at else comment.author.public_name

    def get_body_html(self, comment: Comment) -> str:
        if comment.deleted_at:
            return str(format_html("<p>{}</p>", gettext("This comment was deleted")))
        return str(clean_html(comment.body))

    def get_deleted(self, comment: Comment) -> bool:
        return comment.deleted_at is not None

    def get_official(self, comment: Comment) -> bool:
        return comment.kind == Comment.Kind.OFFICIAL


class CommentCreateSerializer(serializers.Serializer[Any]):
    body = serializers.CharField(max_length=services.COMMENT_MAX)
    parent = serializers.IntegerField(required=False, allow_null=True, default=None)  # type: ignore[assignment]
    kind = serializers.ChoiceField(choices=Comment.Kind.choices, default=Comment.Kind.COMMENT)


class CommentListView(generics.ListCreateAPIView[Comment]):
    serializer_class = CommentSerializer

    def get_queryset(self) -> QuerySet[Comment]:
        idea = _idea_for(self.request, self.kwargs["pk"])
        return Comment.objects.filter(idea=idea, hidden_at__isnull=True).select_related("author").order_by("id")

    @extend_schema(request=CommentCreateSerializer, responses={201: CommentSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        idea = _idea_for(request, self.kwargs["pk"])
        data = CommentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        parent = None
        if data.validated_data["parent"] is not None:
            parent = Comment.objects.filter(pk=data.validated_data["parent"], idea=idea).first()
            if parent is None:
                raise NotFoundError("The comment you reply to does not exist.")
        comment = services.comment_add(
            idea=idea,
            author=_user(request),
            body=data.validated_data["body"],
            parent=parent,
            kind=data.validated_data["kind"],
        )
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class CommentEditSerializer(serializers.Serializer[Any]):
    body = serializers.CharField(max_length=services.COMMENT_MAX)


class CommentDetailView(APIView):
    """The author edits a comment (within the edit window); the author or a moderator deletes it (softly)."""

    permission_classes = [IsAuthenticated]

    def _comment(self, request: Request, pk: int, comment_id: int) -> Comment:
        idea = _idea_for(request, pk)
        if comment_id > MAX_ID:
            raise NotFoundError(gettext("This comment does not exist."))
        comment = Comment.objects.filter(pk=comment_id, idea=idea, hidden_at__isnull=True).first()
        if comment is None:
            raise NotFoundError(gettext("This comment does not exist."))
        return comment

    @extend_schema(request=CommentEditSerializer, responses={200: CommentSerializer})
    def patch(self, request: Request, pk: int, comment_id: int) -> Response:
        comment = self._comment(request, pk, comment_id)
        data = CommentEditSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.comment_edit(comment=comment, actor=_user(request), body=data.validated_data["body"])
        return Response(CommentSerializer(comment).data)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, pk: int, comment_id: int) -> Response:
        comment = self._comment(request, pk, comment_id)
        services.comment_delete(comment=comment, actor=_user(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ModerateSerializer(serializers.Serializer[Any]):
    decision = serializers.ChoiceField(choices=services.ModerationDecision.ALL)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ModerateView(APIView):
    """Product managers: publish, send back (needs work) or reject a pending idea."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=ModerateSerializer, responses=IdeaSerializer)
    def post(self, request: Request, pk: int) -> Response:
        idea = _idea_for(request, pk)
        data = ModerateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        idea = services.idea_moderate(idea=idea, moderator=_user(request), **data.validated_data)
        return Response(IdeaSerializer(idea).data)


class StatusSerializer(serializers.Serializer[Any]):
    status = serializers.ChoiceField(choices=Idea.Status.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    product_codes = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list, max_length=50
    )
    launch_date = serializers.DateField(required=False, allow_null=True, default=None)
    not_approved_code = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)
    reason_public = serializers.BooleanField(required=False, default=False)


class StatusView(APIView):
    """Product managers: move an idea along the lifecycle (allowed moves only)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=StatusSerializer, responses=IdeaSerializer)
    def post(self, request: Request, pk: int) -> Response:
        idea = _idea_for(request, pk)
        data = StatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        idea = services.idea_set_status(idea=idea, actor=_user(request), **data.validated_data)
        return Response(IdeaSerializer(idea).data)


class CampaignSerializer(serializers.ModelSerializer[IdeaCampaignPage]):
    url = serializers.SerializerMethodField()
    milestones = serializers.SerializerMethodField()

    class Meta:
        model = IdeaCampaignPage
        fields = [
            "id",
            "title",
            "url",
            "terms_version",
            "milestones",
            "moderation_required",
            "resubmit_delay_hours",
            "participation",
            "accepting_ideas",
        ]
        read_only_fields = fields

    def get_url(self, campaign: IdeaCampaignPage) -> str:
        return campaign.url or ""

    def get_milestones(self, campaign: IdeaCampaignPage) -> list[dict[str, int]]:
        return [{"supporters": s, "days": d} for s, d in campaign.milestone_list()]


class CampaignListView(generics.ListAPIView[IdeaCampaignPage]):
    serializer_class = CampaignSerializer

    def get_queryset(self) -> QuerySet[IdeaCampaignPage]:
        return IdeaCampaignPage.objects.live().order_by("-first_published_at", "id")


class SimilarView(APIView):
    """Up to five public ideas whose text matches ``q``: suggestions while someone types a new idea."""

    @extend_schema(
        parameters=[OpenApiParameter("q", str, required=True), OpenApiParameter("campaign", int)],
        responses=inline_serializer(
            "SimilarIdeas",
            {
                "results": inline_serializer(
                    "SimilarIdea",
                    {
                        "id": serializers.IntegerField(),
                        "title": serializers.CharField(),
                        "supporters": serializers.IntegerField(),
                        "status": serializers.CharField(),
                        "url": serializers.CharField(),
                    },
                    many=True,
                )
            },
        ),
    )
    def get(self, request: Request) -> Response:
        query = request.query_params.get("q", "").strip()[:200]
        campaign = request.query_params.get("campaign", "")
        campaign_id = int(campaign) if campaign.isascii() and campaign.isdigit() else None
        ideas = selectors.similar_ideas(query=query, campaign_id=campaign_id)
        return Response(
            {
                "results": [
                    {
                        "id": idea.pk,
                        "title": idea.title,
                        "supporters": idea.supporters_count,
                        "status": idea.get_status_display(),
                        "url": idea.get_absolute_url(),
                    }
                    for idea in ideas
                ]
            }
        )


urlpatterns: list[URLPattern | URLResolver] = [
    path("ideas/", IdeaListView.as_view(), name="api-ideas"),
    path("ideas/similar/", SimilarView.as_view(), name="api-ideas-similar"),
    path("ideas/<int:pk>/", IdeaDetailView.as_view(), name="api-idea"),
    path("ideas/<int:pk>/support/", SupportView.as_view(), name="api-idea-support"),
    path("ideas/<int:pk>/comments/", CommentListView.as_view(), name="api-idea-comments"),
    path("ideas/<int:pk>/comments/<int:comment_id>/", CommentDetailView.as_view(), name="api-idea-comment"),
    path("ideas/<int:pk>/moderate/", ModerateView.as_view(), name="api-idea-moderate"),
    path("ideas/<int:pk>/status/", StatusView.as_view(), name="api-idea-status"),
    path("campaigns/", CampaignListView.as_view(), name="api-campaigns"),
]
