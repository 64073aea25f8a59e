"""API token authentication reads the user's roles with the token on PostgreSQL, and they are never kept past
the request: a role taken away counts at the next call."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cocreate.authentication import TokenWithRolesAuthentication
from cocreate.roles import GROUP_NAMES, Role, has_role
from ideas.models import Idea
from tests.factories import UserFactory
from tests.ideas.factories import IdeaFactory


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def pending_ids(client: APIClient) -> list[int]:
    response = client.get("/api/ideas/?status=pending")
    assert response.status_code == 200, response.content
    return [idea["id"] for idea in response.json()["results"]]


def test_the_token_brings_the_roles_in_the_same_query_on_postgresql(db):
    manager = UserFactory(roles=[Role.PRODUCT_MANAGER, Role.BOARD_MEMBER])
    key = Token.objects.create(user=manager).key
    with CaptureQueriesContext(connection) as queries:
        user, _ = TokenWithRolesAuthentication().authenticate_credentials(key)
        answers = [has_role(user, role) for role in Role]
    assert answers == [False, True, True, False]  # customer, board member, product manager, finance
    assert len(queries) == (1 if connection.vendor == "postgresql" else 2)


def test_a_user_without_roles_has_none(db):
    plain = UserFactory()
    user, _ = TokenWithRolesAuthentication().authenticate_credentials(Token.objects.create(user=plain).key)
    assert [has_role(user, role) for role in Role] == [False] * 4


def test_a_role_taken_away_counts_at_the_next_call(site):
    manager = UserFactory(roles=[Role.PRODUCT_MANAGER])
    pending = IdeaFactory(status=Idea.Status.PENDING)
    client = token_client(manager)
    assert pending.pk in pending_ids(client)
    manager.groups.remove(Group.objects.get(name=GROUP_NAMES[Role.PRODUCT_MANAGER]))
    assert pending.pk not in pending_ids(client)


def test_a_bad_token_and_an_inactive_user_are_refused(db):
    inactive = UserFactory(is_active=False)
    for header in ("Token not-a-token", f"Token {Token.objects.create(user=inactive).key}"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)
        response = client.post("/api/ideas/1/support/", {}, format="json")
        # 403, not 401: the session authenticator comes first and names no WWW-Authenticate scheme (DRF).
        assert (response.status_code, response.json()["code"]) == (403, "authentication_failed")
