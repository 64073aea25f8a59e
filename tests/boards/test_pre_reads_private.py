"""Pre-reads live in a private collection per board and reach members only through the board's checked view."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from wagtail.documents.models import Document
from wagtail.models import Collection, CollectionViewRestriction

from boards import services
from boards.models import Board, PreRead
from cocreate.errors import ConflictError
from cocreate.roles import GROUP_NAMES, Role
from cocreate.services import roles_sync
from tests.boards.factories import BoardFactory, MembershipFactory, SessionFactory
from tests.conftest import logged_in_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SECRET = b"%PDF-1.4 confidential roadmap figures"


def _document(title: str = "Roadmap pre-read") -> Document:
    return Document.objects.create(title=title, file=ContentFile(SECRET, name="roadmap.pdf"))


@pytest.fixture
def pre_read(room, site) -> PreRead:
    return services.pre_read_add(session=room.session, document=_document(), order=1)


def test_the_board_gets_one_private_collection_restricted_to_product_managers(room, site):
    first = services.board_pre_read_collection(board=room.board)
    again = services.board_pre_read_collection(board=room.board)
    assert first.pk == again.pk
    assert Board.objects.get(pk=room.board.pk).pre_read_collection_id == first.pk
    assert first.get_parent().pk == Collection.get_first_root_node().pk
    (restriction,) = first.get_view_restrictions()
    assert restriction.restriction_type == CollectionViewRestriction.GROUPS
    assert [g.name for g in restriction.groups.all()] == [GROUP_NAMES[Role.PRODUCT_MANAGER]]
    other = services.board_pre_read_collection(board=BoardFactory())
    assert other.pk != first.pk


def test_adding_a_pre_read_moves_its_document_into_the_private_collection(room, pre_read):
    document = Document.objects.get(pk=pre_read.document_id)
    assert document.collection_id == Board.objects.get(pk=room.board.pk).pre_read_collection_id


def test_a_pre_read_of_one_board_cannot_become_another_boards(room, pre_read):
    other_session = SessionFactory(board=BoardFactory())
    with pytest.raises(ConflictError):
        services.pre_read_add(session=other_session, document=pre_read.document)
    assert not PreRead.objects.filter(session=other_session).exists()


def test_the_same_document_twice_in_a_session_is_a_conflict(room, pre_read):
    with pytest.raises(ConflictError):
        services.pre_read_add(session=room.session, document=pre_read.document)
    assert PreRead.objects.filter(session=room.session).count() == 1


def _urls(pre_read: PreRead) -> list[str]:
    document = pre_read.document
    return [
        document.url,  # Wagtail's serve URL
        f"/documents/{document.pk}/{document.filename}",
        f"/documents/{document.pk}/other-name.pdf",
        document.file.url,  # the storage URL under /media/
        f"/boards/pre-reads/{pre_read.pk}/",
    ]


def _fetch(client: Client, url: str) -> bytes:
    """What a client finally receives from ``url``, following redirects (login pages included)."""
    response = client.get(url, follow=True)
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content)
    return response.content


@pytest.mark.parametrize("who", ["anonymous", "outsider", "member_without_charter", "other_board_member"])
def test_non_members_cannot_fetch_a_pre_read_by_any_url(room, pre_read, who):
    pending = UserFactory(roles=[Role.BOARD_MEMBER])
    MembershipFactory(board=room.board, user=pending, charter_accepted_at=None, charter_version_accepted="")
    stranger = UserFactory(roles=[Role.BOARD_MEMBER])
    MembershipFactory(board=BoardFactory(), user=stranger)
    user = {
        "anonymous": None,
        "outsider": room.outsider,
        "member_without_charter": pending,
        "other_board_member": stranger,
    }[who]
    client = logged_in_client(user) if user is not None else Client()
    for url in _urls(pre_read):
        assert SECRET not in _fetch(client, url), url


@pytest.mark.parametrize("who", ["member", "facilitator", "product_manager"])
def test_members_and_facilitators_get_it_through_the_board_even_from_a_document_link(room, pre_read, who):
    roles_sync()
    user = {
        "member": room.member,
        "facilitator": room.facilitator,
        "product_manager": UserFactory(roles=[Role.PRODUCT_MANAGER], is_staff=True),
    }[who]
    client = logged_in_client(user)
    served = client.get(pre_read.document.url)
    assert served.status_code == 302
    assert served["Location"] == f"/boards/pre-reads/{pre_read.pk}/"
    assert _fetch(client, pre_read.document.url) == SECRET


def test_a_pre_read_added_in_the_admin_goes_private(room, site):
    roles_sync()
    pm = UserFactory(roles=[Role.PRODUCT_MANAGER], is_staff=True)
    document = _document("Admin upload")
    response = logged_in_client(pm).post(
        "/cms/board_pre_reads/new/", {"session": room.session.pk, "document": document.pk, "order": 2}
    )
    assert response.status_code == 302, response.content.decode()[:1000]
    document.refresh_from_db()
    assert document.collection_id == Board.objects.get(pk=room.board.pk).pre_read_collection_id
    assert PreRead.objects.filter(session=room.session, document=document).exists()


def test_the_admin_refuses_another_boards_pre_read(room, pre_read):
    roles_sync()
    pm = UserFactory(roles=[Role.PRODUCT_MANAGER], is_staff=True)
    other_session = SessionFactory(board=BoardFactory())
    response = logged_in_client(pm).post(
        "/cms/board_pre_reads/new/", {"session": other_session.pk, "document": pre_read.document_id, "order": 1}
    )
    assert response.status_code == 200
    assert "This document is a pre-read of another board." in response.content.decode()
    assert not PreRead.objects.filter(session=other_session).exists()
