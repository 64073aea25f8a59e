from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command

from cocreate.demo import DEMO_PASSWORD
from cocreate.models import Organisation, User
from cocreate.roles import Role, has_role

pytestmark = pytest.mark.django_db


def row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def test_seed_demo_creates_each_tier_one_user_per_role_and_prints_the_logins() -> None:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert set(Organisation.objects.values_list("tier", flat=True)) == {"gold", "silver", "bronze"}
    for email, role in [
        ("customer@example.com", Role.CUSTOMER),
        ("board@example.com", Role.BOARD_MEMBER),
        ("pm@example.com", Role.PRODUCT_MANAGER),
        ("finance@example.com", Role.FINANCE),
    ]:
        user = User.objects.get(email=email)
        assert has_role(user, role)
        assert user.check_password(DEMO_PASSWORD)
        assert email in out.getvalue()
    assert User.objects.get(email="admin@example.com").is_superuser


def test_running_seed_demo_twice_changes_nothing() -> None:
    call_command("seed_demo", stdout=StringIO())
    before = row_counts()
    call_command("seed_demo", stdout=StringIO())
    assert row_counts() == before


def test_customers_option_adds_load_test_accounts_once() -> None:
    call_command("seed_demo", "--customers", "30", stdout=StringIO())
    call_command("seed_demo", "--customers", "30", stdout=StringIO())
    accounts = User.objects.filter(email__regex=r"^customer[0-9]+@example\.com$")
    assert accounts.count() == 30
    one = accounts.get(email="customer17@example.com")
    assert one.check_password(DEMO_PASSWORD)
    assert has_role(one, Role.CUSTOMER)
    assert one.emailaddress_set.get().verified
