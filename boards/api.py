"""REST endpoints of the boards app, mounted under /api/ by cocreate.urls.

Thin adapters: fetch and authorise through ``boards.selectors``, validate with a serializer, call one service.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from boards import services
from boards.events import resume_limit
from boards.models import ActionItem, AgendaItem, Board, BoardMembership, Session
from boards.selectors import (
    IdeaOutcomes,
    agenda_ideas,
    board_access,
    boards_for_user,
    events_after,
    idea_links,
    session_access,
    sessions_for_user,
)
from cocreate.errors import DomainError, NotFoundError, PermissionDeniedError
from cocreate.models import User


class BoardSerializer(serializers.ModelSerializer[Board]):
    member_count = serializers.IntegerField(read_only=True)
    charter_accepted = serializers.SerializerMethodField()

    class Meta:
        model = Board
        fields = ["id", "name", "description", "charter_version", "member_count", "charter_accepted"]

    def get_charter_accepted(self, board: Board) -> bool:
        accepted: set[int] = self.context.get("accepted_boards", set())
        return board.pk in accepted


class LinkedIdeaSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    title = serializers.CharField()
    supporters = serializers.IntegerField()
    url = serializers.CharField()


class AgendaItemSerializer(serializers.ModelSerializer[AgendaItem]):
    ideas = serializers.SerializerMethodField(help_text="Linked ideas the caller may see, most supported first.")

    class Meta:
        model = AgendaItem
        fields = ["id", "order", "title", "duration_minutes", "ideas"]

    @extend_schema_field(LinkedIdeaSerializer(many=True))
    def get_ideas(self, item: AgendaItem) -> list[dict[str, Any]]:
        # Views prefetch ``linked_ideas`` filtered for the caller; without it nothing is shown rather than too much.
        return idea_links(getattr(item, "linked_ideas", []))


class SessionSerializer(serializers.ModelSerializer[Session]):
    board_name = serializers.CharField(source="board.name", read_only=True)
    agenda = AgendaItemSerializer(source="agenda_items", many=True, read_only=True)

    class Meta:
        model = Session
        fields = [
            "id",
            "board",
            "board_name",
            "title",
            "description",
            "starts_at",
            "ends_at",
            "state",
            "moderate_questions",
            "current_agenda_item",
            "agenda",
        ]


class AgendaInputSerializer(serializers.Serializer[Any]):
    title = serializers.CharField(max_length=200)
    duration_minutes = serializers.IntegerField(min_value=1, max_value=600, default=15)
    ideas = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        required=False,
        default=list,
        max_length=services.MAX_IDEAS_PER_AGENDA_ITEM,
        help_text="Ids of ideas this item discusses (ideas the caller may see).",
    )


class SessionCreateSerializer(serializers.Serializer[Any]):
    board = serializers.IntegerField()
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    starts_at = serializers.DateTimeField(help_text="ISO 8601 with a time zone offset.")
    ends_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    moderate_questions = serializers.BooleanField(required=False, default=False)
    agenda = AgendaInputSerializer(many=True, required=False, default=list)

    def to_internal_value(self, data: Any) -> Any:
        # The issue names the field "start"; accept it as a synonym of "starts_at".
        if hasattr(data, "get") and "start" in data and "starts_at" not in data:
            data = {**data, "starts_at": data["start"]}
        return super().to_internal_value(data)


class EventSerializer(serializers.Serializer[Any]):
    type = serializers.CharField()
    id = serializers.IntegerField()
    kind = serializers.CharField()
    payload = serializers.DictField()
    created_at = serializers.DateTimeField()


class MemberAddSerializer(serializers.Serializer[Any]):
    user = serializers.CharField(help_text="The user's id or e-mail address.")


class CharterAcceptSerializer(serializers.Serializer[Any]):
    version = serializers.CharField(required=False, help_text="The charter version the member read.")


class MembershipSerializer(serializers.ModelSerializer[BoardMembership]):
    class Meta:
        model = BoardMembership
        fields = ["board", "user", "charter_version_accepted", "charter_accepted_at"]


class BoardListView(generics.ListAPIView[Board]):
    """Boards the caller belongs to or facilitates (every board for product managers)."""

    serializer_class = BoardSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self) -> QuerySet[Board]:
        return boards_for_user(user=self.request.user)

    def get_serializer_context(self) -> dict[str, Any]:
        memberships = BoardMembership.objects.filter(user_id=self.request.user.pk or 0).select_related("board")
        return {
            **super().get_serializer_context(),
            "accepted_boards": {m.board_id for m in memberships if m.charter_current},
        }


class SessionListCreateView(generics.ListAPIView[Session]):
    """Sessions the caller may see (``?board=`` to narrow); facilitators schedule new ones with POST."""

    serializer_class = SessionSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self) -> QuerySet[Session]:
        board = self.request.query_params.get("board")
        board_id = int(board) if board and board.isdigit() else None
        return sessions_for_user(user=self.request.user, board_id=board_id).prefetch_related(
            Prefetch("agenda_items", queryset=AgendaItem.objects.prefetch_related(agenda_ideas(user=self.request.user)))
        )

    @extend_schema(parameters=[OpenApiParameter("board", int, description="Only this board's sessions.")])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(request=SessionCreateSerializer, responses={201: SessionSerializer})
    def post(self, request: Request) -> Response:
        data = SessionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        access = board_access(user=request.user, board_id=values["board"])
        if not access.can_manage:
            raise PermissionDeniedError(_("Only facilitators can schedule sessions."))
        session = services.session_create(
            board=access.board,
            title=values["title"],
            description=values["description"],
            starts_at=values["starts_at"],
            ends_at=values["ends_at"],
            moderate_questions=values["moderate_questions"],
            agenda=values["agenda"],
            by=request.user,  # type: ignore[arg-type]
        )
        _with_agenda(session, request)
        return Response(SessionSerializer(session).data, status=status.HTTP_201_CREATED)


def _with_agenda(session: Session, request: Request) -> None:
    prefetch_related_objects(
        [session],
        Prefetch("agenda_items", queryset=AgendaItem.objects.prefetch_related(agenda_ideas(user=request.user))),
    )


class SessionDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=SessionSerializer)
    def get(self, request: Request, pk: int) -> Response:
        access = session_access(user=request.user, session_id=pk)
        _with_agenda(access.session, request)
        return Response(SessionSerializer(access.session).data)


class SessionEventsView(APIView):
    """The session's events after ``after`` that the caller may see, oldest first: the snapshot after a resync."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[
            OpenApiParameter("after", int, description="Last event id the client has (0 for all)."),
            OpenApiParameter("limit", int, description="At most this many events (default and maximum 500)."),
        ],
        responses=inline_serializer(
            "SessionEvents",
            {
                "events": EventSerializer(many=True),
                "last_id": serializers.IntegerField(),
                "has_more": serializers.BooleanField(),
            },
        ),
    )
    def get(self, request: Request, pk: int) -> Response:
        access = session_access(user=request.user, session_id=pk)
        try:
            after = max(0, int(request.query_params.get("after", 0)))
            limit = min(resume_limit(), max(1, int(request.query_params.get("limit", resume_limit()))))
        except ValueError:
            raise DomainError(_("'after' and 'limit' must be whole numbers.")) from None
        events = events_after(access=access, user_id=request.user.pk or 0, after=after, limit=limit)
        has_more = len(events) > limit
        events = events[:limit]
        return Response({"events": events, "last_id": events[-1]["id"] if events else after, "has_more": has_more})


class OutcomeDecisionSerializer(serializers.Serializer[Any]):
    text = serializers.CharField()
    agenda_item = serializers.CharField(help_text="The agenda item's title.")


class OutcomeActionItemSerializer(serializers.Serializer[Any]):
    title = serializers.CharField()
    owner = serializers.CharField()
    due_date = serializers.DateField()
    # Plain text, not a choice field: another "status" enum would make the schema's enum names collide.
    status = serializers.CharField(help_text=f"One of {', '.join(ActionItem.Status.values)}.")


class OutcomeSessionSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    title = serializers.CharField()
    board = serializers.CharField()
    starts_at = serializers.DateTimeField()
    state = serializers.CharField()
    decisions = OutcomeDecisionSerializer(many=True)
    action_items = OutcomeActionItemSerializer(many=True)


class IdeaOutcomesSerializer(serializers.Serializer[Any]):
    """Board sessions that discussed an idea, with their decisions and action items (staff only)."""

    discussed = serializers.BooleanField()
    sessions = OutcomeSessionSerializer(many=True)


def idea_outcomes_data(outcomes: IdeaOutcomes) -> dict[str, Any]:
    return {
        "discussed": outcomes.discussed,
        "sessions": [
            {
                "id": row.session.pk,
                "title": row.session.title,
                "board": row.session.board.name,
                "starts_at": row.session.starts_at,
                "state": row.session.state,
                "decisions": [
                    {"text": d.text, "agenda_item": next(i.title for i in row.agenda_items if i.pk == d.agenda_item_id)}
                    for d in row.decisions
                ],
                "action_items": [
                    {"title": a.title, "owner": a.owner.public_name, "due_date": a.due_date, "status": a.status}
                    for a in row.action_items
                ],
            }
            for row in outcomes.sessions
        ],
    }


def _managed_board(request: Request, pk: int) -> Board:
    access = board_access(user=request.user, board_id=pk)
    if not access.can_manage:
        raise PermissionDeniedError(_("Only facilitators can manage members."))
    return access.board


class BoardMembersView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=MemberAddSerializer, responses={201: MembershipSerializer})
    def post(self, request: Request, pk: int) -> Response:
        board = _managed_board(request, pk)
        data = MemberAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        ref = data.validated_data["user"].strip()
        user = (
            User.objects.filter(pk=int(ref)).first()
            if ref.isdigit()
            else User.objects.filter(email__iexact=ref).first()
        )
        if user is None:
            raise NotFoundError(_("There is no such user."))
        membership = services.board_member_add(board=board, user=user, by=request.user)  # type: ignore[arg-type]
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)


class BoardMemberDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk: int, user_id: int) -> Response:
        board = _managed_board(request, pk)
        user = User.objects.filter(pk=user_id).first()
        if user is None or not services.board_member_remove(board=board, user=user, by=request.user):  # type: ignore[arg-type]
            raise NotFoundError(_("This person is not a member of the board."))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CharterAcceptView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=CharterAcceptSerializer, responses=MembershipSerializer)
    def post(self, request: Request, pk: int) -> Response:
        access = board_access(user=request.user, board_id=pk)
        data = CharterAcceptSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.charter_accept(
            board=access.board,
            user=request.user,  # type: ignore[arg-type]
            version=data.validated_data.get("version"),
        )
        return Response(MembershipSerializer(membership).data)


urlpatterns: list[URLPattern | URLResolver] = [
    path("boards/", BoardListView.as_view(), name="api-boards"),
    path("boards/<int:pk>/members/", BoardMembersView.as_view(), name="api-board-members"),
    path("boards/<int:pk>/members/<int:user_id>/", BoardMemberDetailView.as_view(), name="api-board-member"),
    path("boards/<int:pk>/charter/accept/", CharterAcceptView.as_view(), name="api-board-charter-accept"),
    path("sessions/", SessionListCreateView.as_view(), name="api-sessions"),
    path("sessions/<int:pk>/", SessionDetailView.as_view(), name="api-session"),
    path("sessions/<int:pk>/events/", SessionEventsView.as_view(), name="api-session-events"),
]
