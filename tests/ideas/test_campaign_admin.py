"""Product managers create and edit idea campaigns in Wagtail admin; other roles cannot."""

from __future__ import annotations

import pytest
from django.test import Client

from cocreate.models import HomePage
from cocreate.roles import Role
from cocreate.services import roles_sync
from tests.factories import UserFactory
from tests.ideas.factories import campaign_create

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_product_manager_may_add_edit_and_publish_campaigns(site):
    roles_sync()
    pm = UserFactory(roles=[Role.PRODUCT_MANAGER])
    home = HomePage.objects.get()
    campaign = campaign_create(title="Warehouse ideas")

    assert home.permissions_for_user(pm).can_add_subpage()
    assert campaign.permissions_for_user(pm).can_edit()
    assert campaign.permissions_for_user(pm).can_publish()
    client = _client(pm)
    assert client.get(f"/cms/pages/add/ideas/ideacampaignpage/{home.pk}/").status_code == 200
    assert client.get(f"/cms/pages/{campaign.pk}/edit/").status_code == 200


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.BOARD_MEMBER, Role.FINANCE])
def test_other_roles_may_not_add_or_edit_campaigns(site, role):
    roles_sync()
    user = UserFactory(roles=[role])
    home = HomePage.objects.get()
    campaign = campaign_create(title="Warehouse ideas")

    assert not home.permissions_for_user(user).can_add_subpage()
    assert not campaign.permissions_for_user(user).can_edit()
    client = _client(user)
    assert client.get(f"/cms/pages/add/ideas/ideacampaignpage/{home.pk}/").status_code in (302, 403)
    assert client.get(f"/cms/pages/{campaign.pk}/edit/").status_code in (302, 403)


def test_the_roles_sync_is_idempotent_and_keeps_page_permissions_exact(site):
    from wagtail.models import GroupPagePermission

    roles_sync()
    roles_sync()
    granted = {
        (p.group.name, p.permission.codename)
        for p in GroupPagePermission.objects.filter(page=HomePage.objects.get()).select_related("group", "permission")
    }
    assert granted == {("Product managers", c) for c in ("add_page", "change_page", "publish_page")}
