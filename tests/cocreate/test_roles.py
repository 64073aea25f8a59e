from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from cocreate.roles import GROUP_NAMES, ROLE_PERMISSIONS, Role, has_role, is_staff_role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_migrating_creates_every_role_group_with_exactly_its_permissions() -> None:
    for role, name in GROUP_NAMES.items():
        group = Group.objects.get(name=name)
        granted = {(p.content_type.app_label, p.codename) for p in group.permissions.select_related("content_type")}
        assert granted == set(ROLE_PERMISSIONS[role])


def test_roles_are_read_from_groups_and_superusers_hold_them_all() -> None:
    pm = UserFactory(roles=[Role.PRODUCT_MANAGER])
    customer = UserFactory(roles=[Role.CUSTOMER])
    root = UserFactory(is_superuser=True)
    assert has_role(pm, Role.PRODUCT_MANAGER)
    assert not has_role(pm, Role.FINANCE)
    assert not has_role(customer, Role.PRODUCT_MANAGER)
    assert all(has_role(root, role) for role in Role)
    assert is_staff_role(pm)
    assert not is_staff_role(customer)


def test_an_inactive_user_holds_no_role() -> None:
    user = UserFactory(roles=[Role.FINANCE], is_active=False)
    assert not has_role(user, Role.FINANCE)
