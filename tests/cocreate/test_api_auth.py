from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from cocreate.models import HomePage
from tests.factories import DEMO_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_an_email_and_password_get_a_token_that_authenticates(site: HomePage) -> None:
    user = UserFactory(email="ada@example.com")
    response = APIClient().post(
        "/api/auth/token/", {"email": "Ada@Example.com", "password": DEMO_PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    again = APIClient().post("/api/auth/token/", {"email": "ada@example.com", "password": DEMO_PASSWORD}, format="json")
    assert again.json()["token"] == token
    assert user.auth_token.key == token


@pytest.mark.parametrize(
    ("body", "status", "key"),
    [
        ({"email": "ada@example.com", "password": "wrong"}, 400, "code"),
        ({"email": "not-an-email", "password": "x"}, 400, "email"),
        ({}, 400, "password"),
    ],
)
def test_bad_credentials_get_a_json_error(site: HomePage, body: dict[str, str], status: int, key: str) -> None:
    UserFactory(email="ada@example.com")
    response = APIClient().post("/api/auth/token/", body, format="json")
    assert response.status_code == status
    assert key in response.json()


def test_malformed_json_gets_a_json_400(site: HomePage) -> None:
    response = APIClient().post("/api/auth/token/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_the_token_endpoint_is_throttled(site: HomePage) -> None:
    client = APIClient()
    statuses = [
        client.post("/api/auth/token/", {"email": "x@example.com", "password": "y"}, format="json").status_code
        for _ in range(12)
    ]
    assert statuses[-1] == 429


def test_the_openapi_schema_and_docs_are_served(site: HomePage) -> None:
    schema = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/auth/token/" in schema.json()["paths"]
    assert all(path.startswith("/api/") for path in schema.json()["paths"])
    docs = APIClient().get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger" in docs.content.lower()
