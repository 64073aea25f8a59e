from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from cocreate.models import User
from cocreate.roles import Role, has_role
from tests.factories import DEMO_PASSWORD, OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db
STRONG = "Tr1cky-Passphrase-42"


def signup(client: Client, email: str, password: str = STRONG, password2: str | None = None):
    return client.post("/accounts/signup/", {"email": email, "password1": password, "password2": password2 or password})


def test_signing_up_makes_a_customer_of_the_organisation_owning_the_domain(site: object) -> None:
    acme = OrganisationFactory(name="Acme", domain="acme.example")
    response = signup(Client(), "Ada@Acme.example")
    assert response.status_code == 302
    user = User.objects.get(email="ada@acme.example")
    assert user.organisation == acme
    assert has_role(user, Role.CUSTOMER)
    assert not has_role(user, Role.PRODUCT_MANAGER)


def test_signing_up_sends_a_verification_email_and_the_link_verifies(site: object) -> None:
    client = Client()
    signup(client, "new@example.com")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.com"]
    link = re.search(r"http://testserver(/accounts/confirm-email/[^/\s]+/)", mail.outbox[0].body)
    assert link is not None
    path = link.group(1)
    assert client.get(path).status_code == 200
    client.post(path)
    assert EmailAddress.objects.get(email="new@example.com").verified


def test_an_unverified_account_cannot_log_in_yet(site: object) -> None:
    client = Client()
    signup(client, "pending@example.com")
    client.logout()
    response = client.post("/accounts/login/", {"login": "pending@example.com", "password": STRONG})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    ("email", "password", "password2", "message"),
    [
        ("not-an-email", STRONG, None, "Enter a valid email address."),
        ("a@example.com", "short", None, "too short"),
        ("a@example.com", STRONG, STRONG + "x", "You must type the same password each time."),
        ("", STRONG, None, "This field is required."),
    ],
)
def test_invalid_sign_up_input_gets_form_errors_and_no_account(
    site: object, email: str, password: str, password2: str | None, message: str
) -> None:
    response = signup(Client(), email, password, password2)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not User.objects.exists()


def test_a_verified_user_logs_in_by_email_and_out_again(site: object) -> None:
    user = UserFactory(email="ada@example.com", roles=[Role.CUSTOMER])
    client = Client()
    response = client.post("/accounts/login/", {"login": "ADA@example.com", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    assert client.session["_auth_user_id"] == str(user.pk)
    client.post("/accounts/logout/")
    assert "_auth_user_id" not in client.session


def test_a_wrong_password_is_a_form_error(site: object) -> None:
    UserFactory(email="ada@example.com")
    response = Client().post("/accounts/login/", {"login": "ada@example.com", "password": "wrong-password"})
    assert response.status_code == 200
    assert "not correct" in response.content.decode()


def test_repeated_failed_logins_lock_the_account_for_a_while(site: object) -> None:
    UserFactory(email="ada@example.com")
    client = Client()
    for i in range(5):
        client.post("/accounts/login/", {"login": "ada@example.com", "password": f"wrong-{i}"})
    response = client.post("/accounts/login/", {"login": "ada@example.com", "password": DEMO_PASSWORD})
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_password_reset_sends_a_link_that_sets_a_new_password(site: object) -> None:
    UserFactory(email="ada@example.com")
    client = Client()
    client.post("/accounts/password/reset/", {"email": "ada@example.com"})
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", mail.outbox[0].body)
    assert link is not None
    response = client.get(link.group(1), follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link.group(1)
    response = client.post(form_url, {"password1": STRONG, "password2": STRONG})
    assert response.status_code == 302
    assert User.objects.get(email="ada@example.com").check_password(STRONG)


def test_the_profile_page_needs_a_login_and_saves_clean_text(site: object, customer: User) -> None:
    assert Client().get("/accounts/profile/").status_code == 302
    client = Client()
    client.force_login(customer)
    page = client.get("/accounts/profile/")
    assert customer.organisation.name in page.content.decode()
    response = client.post(
        "/accounts/profile/",
        {"display_name": "<b>Ada</b><script>x()</script>", "job_title": "CTO", "preferred_language": "zh-hans"},
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.display_name == "Adax()"
    assert customer.preferred_language == "zh-hans"


def test_a_new_account_keeps_the_language_it_signed_up_in(site: object) -> None:
    client = Client()
    client.cookies["django_language"] = "zh-hans"
    signup(client, "wei@example.com")
    assert User.objects.get(email="wei@example.com").preferred_language == "zh-hans"
    signup(Client(), "ada@example.com")
    assert User.objects.get(email="ada@example.com").preferred_language == "en"
