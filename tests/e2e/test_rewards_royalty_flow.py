from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cocreate.roles import Role
from tests.e2e.conftest import login, shot
from tests.factories import UserFactory
from tests.rewards.factories import agreement_make, csv_bytes

pytestmark = pytest.mark.e2e


def test_finance_imports_runs_and_a_creator_downloads_their_statement(
    page: Page, asgi_server: Any, tmp_path: Path
) -> None:
    finance = UserFactory(email="tom@finance.example", roles=[Role.FINANCE], is_staff=True)
    creators = [UserFactory(email=f"creator{i}@example.com", roles=[Role.CUSTOMER]) for i in range(3)]
    agreement_make(payees=creators, actor=finance)
    console_errors: list[str] = []
    page.on("console", lambda msg: console_errors.append(msg.text) if msg.type == "error" else None)

    login(page, asgi_server, finance.email)
    page.goto(asgi_server.url + "/royalties/imports/")
    sales = tmp_path / "q3.csv"
    sales.write_bytes(csv_bytes("SKU-1,2026-07,EUR,1234567.89,0,0,DE,retail"))
    page.set_input_files("input[type=file]", str(sales))
    page.click("form[data-upload-progress] button[type=submit]")
    expect(page.locator("[data-status]")).to_have_text("Completed")
    shot(page, "rewards-01-import")

    page.goto(asgi_server.url + "/royalties/periods/")
    page.fill("input[name=run-period]", "2026-Q3")
    page.get_by_test_id("run-period").click()
    expect(page.locator("[data-status]")).to_contain_text("Done")
    expect(page.locator(".progress span")).to_have_attribute("style", "width:100%")
    shot(page, "rewards-02-run")

    page.goto(asgi_server.url + "/royalties/")
    expect(page.locator("main")).to_contain_text("12345.68 EUR")
    shot(page, "rewards-03-dashboard")
    page.click("[data-testid=logout]")

    login(page, asgi_server, creators[2].email)
    page.goto(asgi_server.url + "/royalties/")
    expect(page.locator("h1")).to_contain_text("My royalty statements")
    expect(page.locator("tbody")).to_contain_text("4115.22")
    page.get_by_role("link", name="Open").click()
    expect(page.locator(".rewards-statement")).to_contain_text("4115.22")
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF").click()
    assert download.value.suggested_filename.endswith(".pdf")
    shot(page, "rewards-04-statement")
    assert console_errors == []
