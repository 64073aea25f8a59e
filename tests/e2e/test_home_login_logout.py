from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cocreate.roles import Role
from tests.e2e.conftest import login, shot
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.e2e


def test_a_customer_sees_the_home_page_logs_in_and_logs_out(page: Page, asgi_server: Any) -> None:
    user = UserFactory(
        email="ada@northwind.example", roles=[Role.CUSTOMER], organisation=OrganisationFactory(tier="gold")
    )
    console_errors: list[str] = []
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)

    page.goto(asgi_server.url + "/")
    expect(page.locator("h1")).to_contain_text("Build the product with the customers who use it")
    expect(page.get_by_test_id("figure-members")).to_have_text("1")
    shot(page, "foundation-01-home")

    login(page, asgi_server, user.email)
    expect(page.locator(".account-link")).to_have_text(user.public_name)
    expect(page.locator("main")).to_contain_text(user.organisation.name)
    shot(page, "foundation-02-profile")

    page.get_by_test_id("logout").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    shot(page, "foundation-03-logged-out")
    assert console_errors == []


def test_the_language_switcher_shows_the_home_page_in_both_chinese_scripts(page: Page, asgi_server: Any) -> None:
    page.goto(asgi_server.url + "/")
    page.select_option("#lang-select", "zh-hans")
    page.wait_for_load_state("load")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_contain_text("与使用产品的客户一起打造产品")
    shot(page, "foundation-04-home-zh-hans")
    page.select_option("#lang-select", "zh-hant")
    page.wait_for_load_state("load")
    expect(page.locator("h1")).to_contain_text("與使用產品的客戶一起打造產品")
    shot(page, "foundation-05-home-zh-hant")


def test_wrong_password_shows_a_form_error_not_a_traceback(page: Page, asgi_server: Any) -> None:
    UserFactory(email="bob@example.com")
    page.goto(asgi_server.url + "/accounts/login/")
    page.fill("input[name=login]", "bob@example.com")
    page.fill("input[name=password]", "not-the-password")
    page.click("form button[type=submit]")
    expect(page.locator("main")).to_contain_text("not correct")
    assert "Traceback" not in page.content()
