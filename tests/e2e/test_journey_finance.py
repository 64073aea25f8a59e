"""Finance's quarter end, in English and in simplified Chinese: upload the net-sales file, run the quarter, close
it for good, and download the statements (CSV with the expected totals, and a PDF)."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from cocreate.roles import Role
from rewards.models import Period, SalesImport
from tests.e2e.conftest import LANGUAGES, expect_language, login, new_page, shot
from tests.factories import UserFactory
from tests.rewards.factories import agreement_make, csv_bytes

pytestmark = pytest.mark.e2e

# Two months of one product: 1,000,000.00 + 234,567.89 net, at 1 % shared by three payees.
SALES = ("SKU-1,2026-07,EUR,1000000.00,0,0,DE,retail", "SKU-1,2026-08,EUR,250000.00,15432.11,0,FR,online")
EARNED_TOTAL = Decimal("12345.68")
# The upload page is left as soon as the file is in, so note in sessionStorage (kept across that navigation)
# that the progress bar was shown while sending.
WATCH_PROGRESS = """() => {
  sessionStorage.removeItem("upload-progress");
  const bar = document.querySelector("[data-progress]");
  new MutationObserver(() => {
    if (!bar.hidden) { sessionStorage.setItem("upload-progress", bar.querySelector("span").style.width); }
  }).observe(bar, {attributes: true, subtree: true});
}"""


@pytest.mark.parametrize("language", LANGUAGES)
def test_finance_imports_runs_closes_and_downloads_statements(
    browser: Browser, asgi_server: Any, tmp_path: Path, language: str
) -> None:
    finance = UserFactory(roles=[Role.FINANCE], is_staff=True)
    creators = [UserFactory(roles=[Role.CUSTOMER]) for _ in range(3)]
    agreement_make(payees=creators, actor=finance)
    page = new_page(browser, asgi_server.url, language)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    step = f"journey-finance-{language}"

    # 1. Upload the sales file: the progress bar shows, then the import's page says it completed.
    login(page, asgi_server, finance.email)
    page.goto(asgi_server.url + "/royalties/imports/")
    expect_language(page, language)
    sales = tmp_path / "net-sales-2026-Q3.csv"
    sales.write_bytes(csv_bytes(*SALES))
    page.set_input_files("input[type=file]", str(sales))
    shot(page, f"{step}-01-upload")
    page.evaluate(WATCH_PROGRESS)
    page.locator("form[data-upload-progress] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/royalties/imports/\d+/$"))
    assert page.evaluate("sessionStorage.getItem('upload-progress')") is not None, "no upload progress was shown"
    expect(page.locator("[data-status]")).to_have_class(re.compile(r"\bstatus-completed\b"))
    expect(page.locator("[data-rows]")).to_have_text("2")
    expect(page.locator(".rewards-progress span")).to_have_attribute("style", "width:100%")
    shot(page, f"{step}-02-imported")
    assert SalesImport.objects.get().status == SalesImport.Status.COMPLETED

    # 2. Run the quarter: the run's page follows it until done.
    page.goto(asgi_server.url + "/royalties/periods/")
    page.fill("input[name=run-period]", "2026-Q3")
    page.get_by_test_id("run-period").click()
    page.wait_for_url(re.compile(r"/royalties/runs/\d+/$"))
    expect(page.locator("[data-status]")).to_have_class(re.compile(r"\bstatus-done\b"), timeout=20000)
    expect(page.locator(".rewards-progress span")).to_have_attribute("style", "width:100%")
    shot(page, f"{step}-03-run-done")

    # 3. Close the period for good.
    page.goto(asgi_server.url + "/royalties/periods/")
    row = page.locator("tbody tr").filter(has_text="2026-Q3")
    expect(row.locator(".status")).to_have_class(re.compile(r"\bstatus-calculated\b"))
    row.locator("input[name=action][value=close] ~ button").click()
    row = page.locator("tbody tr").filter(has_text="2026-Q3")
    expect(row.locator(".status")).to_have_class(re.compile(r"\bstatus-closed\b"))
    shot(page, f"{step}-04-closed")
    assert Period.objects.get(code="2026-Q3").state == Period.State.CLOSED

    # 4. The statements: a CSV of every payee (totals add up to 1 % of net sales) and one payee's PDF.
    page.goto(asgi_server.url + "/royalties/statements/?period=2026-Q3")
    expect(page.locator("tbody tr")).to_have_count(3)
    shot(page, f"{step}-05-statements")
    csv_link = page.locator("a[href*='format=csv']")
    with page.expect_download() as download:
        csv_link.click()
    assert download.value.suggested_filename == "statements-2026-Q3.csv"
    response = page.request.get(asgi_server.url + "/royalties/statements/" + csv_link.get_attribute("href"))
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert sorted(row["payee"] for row in rows) == sorted(str(user.pk) for user in creators)
    assert {row["period"] for row in rows} == {"2026-Q3"}
    assert sum(Decimal(row["earned"]) for row in rows) == EARNED_TOTAL
    assert sum(Decimal(row["closing"]) for row in rows) == EARNED_TOTAL

    page.locator("tbody tr a").first.click()
    page.wait_for_url(re.compile(r"/royalties/statements/2026-Q3/\d+/\d+/$"))
    expect(page.locator(".rewards-statement")).to_be_visible()
    shot(page, f"{step}-06-statement")
    with page.expect_download() as download:
        page.locator("a[href='?format=pdf']").click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    response = page.request.get(page.url + "?format=pdf")
    assert response.headers["content-type"] == "application/pdf"
    assert errors == []
