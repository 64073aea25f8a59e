"""Finance pages: finance only, with every other role refused; payees see only their own statements and agreements."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rewards import services
from rewards.models import Agreement, Payout, Period, RoyaltyRun, SalesLine
from tests.conftest import logged_in_client
from tests.factories import UserFactory
from tests.rewards.factories import agreement_make, csv_bytes, sell

pytestmark = pytest.mark.django_db

FINANCE_PAGES = [
    "/royalties/agreements/",
    "/royalties/agreements/new/",
    "/royalties/imports/",
    "/royalties/periods/",
    "/royalties/payouts/",
    "/royalties/payouts/?format=csv",
]


@pytest.fixture
def calculated(finance):
    alice, bob = UserFactory(), UserFactory()
    agreement = agreement_make(payees=[alice, bob], actor=finance)
    sell(["SKU-1,2026-07,EUR,1000.00,0,0"], actor=finance)
    services.royalty_run(period="2026-Q3")
    return agreement, alice, bob


@pytest.mark.parametrize("url", FINANCE_PAGES)
def test_finance_pages_render_for_finance(finance, calculated, url) -> None:
    assert logged_in_client(finance).get(url).status_code == 200


@pytest.mark.parametrize("url", FINANCE_PAGES)
@pytest.mark.parametrize("role", ["customer", "board_member", "product_manager"])
def test_finance_pages_are_refused_to_every_other_role(request, role, url) -> None:
    assert logged_in_client(request.getfixturevalue(role)).get(url).status_code == 403


@pytest.mark.parametrize("url", [*FINANCE_PAGES, "/royalties/", "/royalties/statements/"])
def test_anonymous_visitors_are_sent_to_log_in(client, url) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_the_dashboard_draws_totals_by_period_idea_and_payee(finance, calculated) -> None:
    html = logged_in_client(finance).get("/royalties/").content.decode()
    assert "2026-Q3" in html
    assert "10.00 EUR" in html
    assert html.count("<rect") >= 4
    assert "Agreement for SKU-1" in html


def test_a_creator_landing_on_royalties_sees_their_statements(calculated) -> None:
    _agreement, alice, _bob = calculated
    response = logged_in_client(alice).get("/royalties/", follow=True)
    assert response.redirect_chain[-1][0].startswith("/royalties/statements/")
    html = response.content.decode()
    assert "My royalty statements" in html
    assert html.count("5.00") >= 1


def test_statement_page_and_downloads_for_the_payee_but_not_for_others(calculated, customer, finance) -> None:
    agreement, alice, bob = calculated
    url = f"/royalties/statements/2026-Q3/{agreement.pk}/{alice.pk}/"
    own = logged_in_client(alice)
    page = own.get(url)
    assert page.status_code == 200
    assert "SKU-1" in page.content.decode()
    csv_response = own.get(url + "?format=csv")
    assert csv_response["Content-Type"].startswith("text/csv")
    assert "earned,5.00,EUR" in csv_response.content.decode()
    pdf = own.get(url + "?format=pdf")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert logged_in_client(bob).get(url).status_code == 403
    assert logged_in_client(customer).get(url).status_code == 403
    assert logged_in_client(finance).get(url).status_code == 200
    assert logged_in_client(finance).get(f"/royalties/statements/2031-Q1/{agreement.pk}/{alice.pk}/").status_code == 404


def test_a_payee_consents_on_the_agreement_page_and_others_cannot_see_it(finance, customer) -> None:
    alice = UserFactory()
    agreement = agreement_make(payees=[alice], consent=False, actor=finance)
    client = logged_in_client(alice)
    assert "I agree to my share" in client.get(f"/royalties/agreements/{agreement.pk}/").content.decode()
    client.post(f"/royalties/agreements/{agreement.pk}/", {"action": "consent"})
    assert agreement.current_terms.payees.get().consented_at is not None
    assert client.post(f"/royalties/agreements/{agreement.pk}/", {"action": "activate"}).status_code == 403
    assert logged_in_client(customer).get(f"/royalties/agreements/{agreement.pk}/").status_code == 404


def test_finance_creates_an_agreement_and_adds_a_terms_version_from_the_pages(finance) -> None:
    alice, bob = UserFactory(), UserFactory()
    client = logged_in_client(finance)
    response = client.post(
        "/royalties/agreements/new/",
        {
            "title": "Cable tidy",
            "currency": "EUR",
            "product_codes": "CT-1, CT-2",
            "effective_from": "2026-01-01",
            "rate_bp": "100",
            "rounding": "half_up",
            "minimum_payout": "10",
            "advance": "0",
            "payees": f"{alice.email} 5000\n{bob.email} 5000",
        },
    )
    agreement = Agreement.objects.get()
    assert response["Location"] == f"/royalties/agreements/{agreement.pk}/"
    client.post(
        f"/royalties/agreements/{agreement.pk}/",
        {
            "action": "terms",
            "terms-effective_from": "2027-01-01",
            "terms-rate_bp": "150",
            "terms-rounding": "half_even",
            "terms-minimum_payout": "10",
            "terms-advance": "0",
            "terms-payees": "",
        },
    )
    assert list(agreement.terms.values_list("version", "rate_bp")) == [(1, 100), (2, 150)]
    bad = client.post(
        "/royalties/agreements/new/",
        {"title": "X", "currency": "EUR", "product_codes": "X-1", "effective_from": "2026-01-01", "rate_bp": "100",
         "rounding": "half_up", "minimum_payout": "0", "advance": "0", "payees": f"{alice.email} 4000"},
    )  # fmt: skip
    assert bad.status_code == 200
    assert "10,000" in bad.content.decode()
    assert Agreement.objects.count() == 1


def test_upload_import_run_close_and_pay_through_the_pages(finance, django_capture_on_commit_callbacks) -> None:
    alice = UserFactory()
    agreement_make(payees=[alice], actor=finance)
    client = logged_in_client(finance)
    upload = SimpleUploadedFile("q3.csv", csv_bytes("SKU-1,2026-07,EUR,1000.00,0,0,DE,retail"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/royalties/imports/", {"file": upload})
    assert response.status_code == 302
    assert SalesLine.objects.count() == 1
    assert "SKU-1" in client.get(response["Location"]).content.decode()
    bad = SimpleUploadedFile("bad.csv", csv_bytes("SKU-1,2026-7,EUR,1000.00,0,0,DE,retail"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/royalties/imports/", {"file": bad})
    detail = client.get(response["Location"]).content.decode()
    assert "is not a month" in detail
    assert "nothing was imported" in detail
    again = SimpleUploadedFile("q3.csv", csv_bytes("SKU-1,2026-07,EUR,1000.00,0,0,DE,retail"))
    refused = client.post("/royalties/imports/", {"file": again})
    assert refused.status_code == 200
    assert "already imported" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/royalties/periods/", {"action": "run", "run-period": "2026-Q3"})
    run = RoyaltyRun.objects.get()
    assert response["Location"] == f"/royalties/runs/{run.pk}/"
    assert "data-poll" in client.get(response["Location"]).content.decode()
    client.post("/royalties/periods/", {"action": "close", "period": "2026-Q3"})
    assert Period.objects.get(code="2026-Q3").state == "closed"
    client.post("/royalties/periods/", {"action": "payouts", "period": "2026-Q3"})
    payout = Payout.objects.get()
    client.post(f"/royalties/payouts/{payout.pk}/", {"action": "approve"})
    export = client.get("/royalties/payouts/?format=csv").content.decode()
    assert f"{payout.pk}," in export
    assert ",10.00,EUR," in export
    client.post(f"/royalties/payouts/{payout.pk}/", {"action": "paid", "reference": "BANK-77"})
    payout.refresh_from_db()
    assert (payout.status, payout.reference) == ("paid", "BANK-77")


def test_a_refused_run_shows_the_reason(finance) -> None:
    Period.objects.create(code="2026-Q1", start="2026-01-01", end="2026-03-31", state="closed")
    response = logged_in_client(finance).post(
        "/royalties/periods/", {"action": "run", "run-period": "2026-Q1"}, follow=True
    )
    assert "closed" in response.content.decode()
    assert not RoyaltyRun.objects.exists()


def test_payout_actions_are_refused_to_other_roles(customer, calculated, finance) -> None:
    services.payouts_create(actor=finance, period="2026-Q3")
    payout = Payout.objects.first()
    assert logged_in_client(customer).post(f"/royalties/payouts/{payout.pk}/", {"action": "approve"}).status_code == 403
    payout.refresh_from_db()
    assert payout.status == "pending"


def test_the_wagtail_admin_shows_the_royalties_menu_to_finance_only(finance, product_manager) -> None:
    assert "royalties-imports" in logged_in_client(finance).get("/cms/").content.decode()
    assert "royalties-imports" not in logged_in_client(product_manager).get("/cms/").content.decode()


def test_a_payee_is_pointed_to_the_agreement_awaiting_their_consent(finance) -> None:
    alice = UserFactory()
    agreement = agreement_make(payees=[alice], consent=False, actor=finance)
    html = logged_in_client(alice).get("/royalties/statements/").content.decode()
    assert f"/royalties/agreements/{agreement.pk}/" in html
    assert "your consent is needed" in html


def test_an_uploaded_file_is_processed_by_the_task_with_progress_on_the_row(finance) -> None:
    from rewards.models import SalesImport
    from rewards.services import sales_import_start
    from rewards.tasks import sales_import_task

    agreement_make(actor=finance)
    record = sales_import_start(
        actor=finance, file_name="q.csv", content=csv_bytes(*[f"SKU-1,2026-07,EUR,1,0,0,T{n}," for n in range(1500)])
    )
    assert (record.status, record.rows_total, record.rows_done) == ("processing", 0, 0)
    assert not SalesLine.objects.exists()
    sales_import_task(record.pk)
    sales_import_task(record.pk)
    record = SalesImport.objects.get(pk=record.pk)
    assert (record.status, record.rows_total, record.rows_done) == ("completed", 1500, 1500)
    assert bytes(record.source).startswith(b"product_code")
    assert SalesLine.objects.count() == 1500


def test_a_statement_shows_every_contributing_sales_line_on_pages_and_in_the_pdf(finance, monkeypatch) -> None:
    import reportlab.rl_config

    from rewards import views

    alice = UserFactory()
    agreement = agreement_make(payees=[alice], actor=finance)
    sell([f"SKU-1,2026-07,EUR,{1000 + n}.17,0,0" for n in range(5)], actor=finance)
    services.royalty_run(period="2026-Q3")
    url = f"/royalties/statements/2026-Q3/{agreement.pk}/{alice.pk}/"
    monkeypatch.setattr(views, "STATEMENT_LINES_PER_PAGE", 2)
    client = logged_in_client(alice)

    pages = [client.get(url, {"page": number}).content.decode() for number in (1, 2, 3)]

    assert [sum(f"{1000 + n}.17" in page for n in range(5)) for page in pages] == [2, 2, 1]
    assert "Page 3 of 3 (5 lines)" in pages[2]
    monkeypatch.setattr(reportlab.rl_config, "pageCompression", 0)
    pdf = client.get(url, {"format": "pdf"}).content.decode("latin-1")
    assert all(f"{1000 + n}.17" in pdf for n in range(5))
