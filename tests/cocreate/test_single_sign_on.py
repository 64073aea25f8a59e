from __future__ import annotations

import pytest
from django.test import Client, override_settings

from cocreate.models import HomePage
from tests.cocreate.test_settings import run_manage

pytestmark = pytest.mark.django_db

ACME = {
    "openid_connect": {
        "APPS": [
            {
                "provider_id": "acme",
                "name": "Acme SSO",
                "client_id": "cocreate",
                "secret": "s3cret",
                "settings": {"server_url": "https://login.acme.example"},
            }
        ]
    }
}


@override_settings(SOCIALACCOUNT_PROVIDERS=ACME)
def test_a_configured_oidc_provider_is_offered_on_the_login_page(site: HomePage) -> None:
    page = Client().get("/accounts/login/").content.decode()
    assert "Acme SSO" in page
    assert "/accounts/oidc/acme/login/" in page


def test_without_configuration_no_single_sign_on_is_offered(site: HomePage) -> None:
    assert "/accounts/oidc/" not in Client().get("/accounts/login/").content.decode()


def test_a_malformed_sso_variable_stops_start_up() -> None:
    result = run_manage("check", env={"SSO_OIDC_PROVIDERS": '[{"provider_id": "acme"}]'})
    assert result.returncode != 0
    assert "SSO_OIDC_PROVIDERS must be a JSON list" in result.stderr
