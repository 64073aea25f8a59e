"""Wagtail admin for facilitators: boards, members, sessions, agenda items and pre-reads.

Adding and removing members goes through the services, so that a removed member's open live-room sockets
are closed at once.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.panels import FieldPanel
from wagtail.admin.views.generic import models as generic
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet

from boards import services
from boards.models import AgendaItem, Board, BoardMembership, PreRead, Session
from cocreate.models import User


class BoardViewSet(ModelViewSet):
    model = Board
    icon = "group"
    menu_label = _("Boards")
    list_display = ["name", "charter_version", "created_at"]
    search_fields = ["name", "description"]
    panels = [
        FieldPanel("name"),
        FieldPanel("description"),
        FieldPanel("charter_text"),
        FieldPanel("charter_version"),
        FieldPanel("facilitators"),
    ]


class MembershipCreateView(generic.CreateView):
    def save_instance(self) -> BoardMembership:
        membership: BoardMembership = self.form.instance
        user = self.request.user
        return services.board_member_add(
            board=membership.board, user=membership.user, by=user if isinstance(user, User) else None
        )


class MembershipDeleteView(generic.DeleteView):
    def delete_action(self) -> None:
        membership: BoardMembership = self.object
        user = self.request.user
        services.board_member_remove(
            board=membership.board, user=membership.user, by=user if isinstance(user, User) else None
        )


class MembershipViewSet(ModelViewSet):
    model = BoardMembership
    icon = "user"
    menu_label = _("Members")
    add_view_class = MembershipCreateView
    delete_view_class = MembershipDeleteView
    list_display = ["user", "board", "charter_version_accepted", "charter_accepted_at", "added_at"]
    list_filter = ["board"]
    search_fields = ["user__email", "user__display_name", "board__name"]
    form_fields = ["board", "user"]


class SessionViewSet(ModelViewSet):
    model = Session
    icon = "date"
    menu_label = _("Sessions")
    list_display = ["title", "board", "starts_at", "state"]
    list_filter = ["board", "state"]
    search_fields = ["title"]
    form_fields = ["board", "title", "description", "starts_at", "ends_at", "moderate_questions"]


class AgendaItemViewSet(ModelViewSet):
    model = AgendaItem
    icon = "list-ol"
    menu_label = _("Agenda items")
    list_display = ["title", "session", "order", "duration_minutes"]
    list_filter = ["session__board"]
    form_fields = ["session", "order", "title", "duration_minutes"]


class PreReadViewSet(ModelViewSet):
    model = PreRead
    icon = "doc-full"
    menu_label = _("Pre-reads")
    list_display = ["document", "session", "order"]
    list_filter = ["session__board"]
    form_fields = ["session", "document", "order"]


class AdvisoryBoardsGroup(ViewSetGroup):
    menu_label = _("Advisory boards")
    menu_icon = "group"
    menu_order = 300
    items = (
        BoardViewSet("advisory_boards"),
        MembershipViewSet("board_members"),
        SessionViewSet("board_sessions"),
        AgendaItemViewSet("board_agenda_items"),
        PreReadViewSet("board_pre_reads"),
    )


@hooks.register("register_admin_viewset")
def register_boards_admin() -> Any:
    return AdvisoryBoardsGroup()
