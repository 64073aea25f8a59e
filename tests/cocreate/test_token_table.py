"""Each process keeps the API tokens it has seen, with their users and roles, against one version in the shared
cache: a known token costs no query, and anything that changes what a token grants counts at the next call, in
every process."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cocreate import authentication
from cocreate.models import User
from cocreate.roles import GROUP_NAMES, Role
from ideas.models import Idea
from tests.factories import OrganisationFactory, UserFactory
from tests.ideas.factories import IdeaFactory, campaign_create


def token_client(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def token_queries(client: APIClient, path: str = "/api/ideas/?status=pending") -> tuple[int, list[int]]:
    """How many queries read the token table in one call, and the ids of the ideas listed."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200, response.content
    token_table = Token._meta.db_table
    return sum(token_table in query["sql"] for query in queries), [idea["id"] for idea in response.json()["results"]]


def test_a_known_token_is_not_read_again(db):
    client = token_client(UserFactory(roles=[Role.CUSTOMER]))
    assert token_queries(client)[0] == 1
    assert token_queries(client)[0] == 0
    assert token_queries(client)[0] == 0


def test_a_deleted_token_is_refused_at_the_next_call(db):
    user = UserFactory(roles=[Role.CUSTOMER])
    client = token_client(user)
    token_queries(client)
    assert token_queries(client)[0] == 0  # the process holds it
    Token.objects.filter(user=user).delete()
    response = client.get("/api/ideas/")
    assert (response.status_code, response.json()["code"]) == (403, "authentication_failed")


def test_a_deactivated_user_is_refused_at_the_next_call(db):
    user = UserFactory(roles=[Role.CUSTOMER])
    client = token_client(user)
    token_queries(client)
    user.is_active = False
    user.save()
    response = client.get("/api/ideas/")
    assert (response.status_code, response.json()["code"]) == (403, "authentication_failed")


def test_a_role_removed_counts_at_the_next_call(site):
    manager = UserFactory(roles=[Role.PRODUCT_MANAGER])
    pending = IdeaFactory(status=Idea.Status.PENDING)
    client = token_client(manager)
    assert pending.pk in token_queries(client)[1]
    assert token_queries(client)[0] == 0
    Group.objects.get(name=GROUP_NAMES[Role.PRODUCT_MANAGER]).user_set.remove(manager)
    assert pending.pk not in token_queries(client)[1]


def test_a_role_added_counts_at_the_next_call(site):
    customer = UserFactory(roles=[Role.CUSTOMER])
    pending = IdeaFactory(status=Idea.Status.PENDING)
    client = token_client(customer)
    assert pending.pk not in token_queries(client)[1]
    customer.groups.add(Group.objects.get(name=GROUP_NAMES[Role.PRODUCT_MANAGER]))
    assert pending.pk in token_queries(client)[1]


def test_a_renamed_group_no_longer_grants_its_role(site):
    manager = UserFactory(roles=[Role.PRODUCT_MANAGER])
    pending = IdeaFactory(status=Idea.Status.PENDING)
    client = token_client(manager)
    assert pending.pk in token_queries(client)[1]
    group = Group.objects.get(name=GROUP_NAMES[Role.PRODUCT_MANAGER])
    group.name = "Former product managers"
    group.save()
    assert pending.pk not in token_queries(client)[1]


def test_a_version_replaced_by_another_process_makes_this_one_read_its_tokens_again(db):
    """What another process's write does: it replaces the shared version; here the user row changes with no
    signal (as seen from this process), and only the version tells."""
    user = UserFactory(roles=[Role.CUSTOMER])
    client = token_client(user)
    token_queries(client)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert client.get("/api/ideas/").status_code == 200  # still the process's copy
    cache.set(authentication.VERSION_KEY, uuid.uuid4().hex, None)
    response = client.get("/api/ideas/")
    assert (response.status_code, response.json()["code"]) == (403, "authentication_failed")


def test_a_changed_organisation_counts_at_the_next_support(site):
    customer = UserFactory(roles=[Role.CUSTOMER], organisation=OrganisationFactory())
    member = OrganisationFactory()
    campaign = campaign_create(parent=site)
    campaign.participation = campaign.Participation.ORGANISATIONS
    campaign.save_revision().publish()
    campaign.organisations.add(member)
    campaign.save_revision().publish()
    first, second = IdeaFactory(campaign=campaign), IdeaFactory(campaign=campaign)
    client = token_client(customer)
    assert client.post(f"/api/ideas/{first.pk}/support/", {}, format="json").status_code == 403
    customer.organisation = member
    customer.save()
    assert client.post(f"/api/ideas/{second.pk}/support/", {}, format="json").status_code == 201


def test_each_call_gets_its_own_user_object(db):
    user = UserFactory(roles=[Role.CUSTOMER])
    key = Token.objects.create(user=user).key
    first, first_token = authentication.TokenWithRolesAuthentication().authenticate_credentials(key)
    first.display_name = "changed by one request"
    second, second_token = authentication.TokenWithRolesAuthentication().authenticate_credentials(key)
    assert second is not first
    assert second_token is not first_token
    assert second.display_name == user.display_name
    assert second_token.user is second
