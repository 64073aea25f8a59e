from __future__ import annotations

import pytest

from cocreate.models import HomePage, User
from tests.conftest import logged_in_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "cms_status"),
    [("customer", 302), ("board_member", 302), ("product_manager", 200), ("finance", 200), ("superuser", 200)],
)
def test_the_wagtail_admin_is_for_product_managers_and_finance(
    request: pytest.FixtureRequest, site: HomePage, role: str, cms_status: int
) -> None:
    user: User = request.getfixturevalue(role)
    assert logged_in_client(user).get("/cms/").status_code == cms_status


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("customer", False), ("product_manager", False), ("finance", False), ("superuser", True)],
)
def test_the_django_admin_is_for_superusers_only(
    request: pytest.FixtureRequest, site: HomePage, role: str, allowed: bool
) -> None:
    user: User = request.getfixturevalue(role)
    response = logged_in_client(user).get("/django-admin/")
    assert (response.status_code == 200) is allowed
    if not allowed:
        assert response.status_code == 302


def test_product_managers_manage_organisations_in_the_wagtail_admin(site: HomePage, product_manager: User) -> None:
    response = logged_in_client(product_manager).get("/cms/organisations/")
    assert response.status_code in (200, 302)
