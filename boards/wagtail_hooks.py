"""Wagtail admin for facilitators: boards, members, sessions, agenda items and pre-reads.

Adding and removing members goes through the services, so that a removed member's open live-room sockets
are closed at once. Pre-reads go through them too, so that their documents move into the board's private
collection; ``pre_reads_only_through_their_board`` keeps Wagtail's document URL from serving them.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.views.generic import models as generic
from wagtail.admin.viewsets.base import ViewSetGroup
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.documents.models import Document

from boards import services
from boards.forms import IdeaPicker
from boards.models import AgendaItem, Board, BoardMembership, PreRead, Session
from cocreate.models import User
from ideas.models import Idea
from ideas.selectors import ideas_visible_to


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


class AgendaItemForm(WagtailAdminModelForm):
    """Agenda items link only ideas the facilitator may see; the picker suggests the most supported ones."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = self.for_user
        field = self.fields["ideas"]
        field.queryset = ideas_visible_to(user) if user is not None else Idea.objects.none()
        field.error_messages["invalid_choice"] = _("There is no idea you may link with the id %(value)s.")


class AgendaItemViewSet(ModelViewSet):
    model = AgendaItem
    icon = "list-ol"
    menu_label = _("Agenda items")
    list_display = ["title", "session", "order", "duration_minutes"]
    list_filter = ["session__board"]
    edit_handler = ObjectList(
        [
            FieldPanel("session"),
            FieldPanel("order"),
            FieldPanel("title"),
            FieldPanel("duration_minutes"),
            FieldPanel("ideas", widget=IdeaPicker()),
        ],
        base_form_class=AgendaItemForm,
    )


class PreReadForm(WagtailAdminModelForm):
    def clean(self) -> dict[str, Any]:
        data = super().clean()
        session, document = data.get("session"), data.get("document")
        if session is not None and document is not None:
            other = Board.objects.filter(pre_read_collection_id=document.collection_id).exclude(pk=session.board_id)
            if other.exists():
                self.add_error("document", _("This document is a pre-read of another board. Upload a copy."))
        return data


class PreReadCreateView(generic.CreateView):
    def save_instance(self) -> PreRead:
        data = self.form.cleaned_data
        return services.pre_read_add(session=data["session"], document=data["document"], order=data["order"])


class PreReadEditView(generic.EditView):
    def save_instance(self) -> PreRead:
        pre_read: PreRead = super().save_instance()
        services.pre_read_document_protect(board=pre_read.session.board, document=pre_read.document)
        return pre_read


class PreReadViewSet(ModelViewSet):
    model = PreRead
    icon = "doc-full"
    menu_label = _("Pre-reads")
    add_view_class = PreReadCreateView
    edit_view_class = PreReadEditView
    list_display = ["document", "session", "order"]
    list_filter = ["session__board"]
    edit_handler = ObjectList(
        [FieldPanel("session"), FieldPanel("document"), FieldPanel("order")], base_form_class=PreReadForm
    )


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


@hooks.register("before_serve_document", order=-10)
def pre_reads_only_through_their_board(document: Document, request: HttpRequest) -> HttpResponse | None:
    """Send requests for a pre-read's document to the board's own download, which checks who may read it.

    Runs before Wagtail's collection restriction, so that a member who follows a document link still gets
    the file (through the board) while everyone else is refused there. Other documents are left to Wagtail.
    """
    pre_read = PreRead.objects.filter(document=document).order_by("pk").first()
    if pre_read is None:
        return None
    return redirect("boards:pre_read", pk=pre_read.pk)
