"""Facilitators manage boards in the Wagtail admin; removing a member there cuts off their sockets too."""

from __future__ import annotations

from unittest import mock

import pytest

from boards.models import BoardMembership
from cocreate.roles import Role
from cocreate.services import roles_sync
from tests.conftest import logged_in_client
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pm(site):
    roles_sync()
    return UserFactory(roles=[Role.PRODUCT_MANAGER], is_staff=True)


def test_product_managers_list_board_members_in_the_admin(room, pm):
    response = logged_in_client(pm).get(f"/cms/board_members/?board={room.board.pk}")
    assert response.status_code == 200
    assert "Mia Member" in response.content.decode()


@pytest.mark.parametrize("path", ["/cms/advisory_boards/", "/cms/board_members/", "/cms/board_sessions/"])
def test_members_and_customers_have_no_admin(room, site, path):
    assert logged_in_client(room.member).get(path).status_code in (302, 403)


def test_adding_a_member_in_the_admin_uses_the_service(room, pm):
    newcomer = UserFactory(roles=[Role.BOARD_MEMBER])
    response = logged_in_client(pm).post("/cms/board_members/new/", {"board": room.board.pk, "user": newcomer.pk})
    assert response.status_code == 302
    membership = BoardMembership.objects.get(user=newcomer)
    assert membership.added_by == pm


def test_removing_a_member_in_the_admin_revokes_their_live_access(room, pm, django_capture_on_commit_callbacks):
    membership = BoardMembership.objects.get(user=room.member)
    with mock.patch("boards.services.group_send") as sent, django_capture_on_commit_callbacks(execute=True):
        response = logged_in_client(pm).post(f"/cms/board_members/delete/{membership.pk}/")
    assert response.status_code == 302
    assert not BoardMembership.objects.filter(pk=membership.pk).exists()
    sent.assert_called_once_with(
        f"user-{room.member.pk}", {"type": "access.revoked", "board_id": room.board.pk, "user_id": room.member.pk}
    )
