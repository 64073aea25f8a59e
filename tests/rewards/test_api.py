"""The royalties API: finance only (payees read their own statements), bad input → 400, in the OpenAPI schema."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from rewards.models import Agreement, FxRate, LedgerEntry, Period, SalesLine
from tests.conftest import api_client_for
from tests.factories import UserFactory
from tests.rewards.factories import agreement_make, csv_bytes, sell

pytestmark = pytest.mark.django_db

ROLES = ["customer", "board_member", "product_manager"]


def _agreement_body(payees, **overrides):
    body = {
        "title": "Desk organiser",
        "currency": "EUR",
        "rate_bp": 100,
        "effective_from": "2026-01-01",
        "product_codes": ["DESK-1"],
        "payees": payees,
    }
    body.update(overrides)
    return body


def test_finance_creates_an_agreement_with_payees_by_id_or_email(finance) -> None:
    alice, bob = UserFactory(), UserFactory()
    body = _agreement_body(
        [{"user": alice.pk, "share_bp": 6000}, {"user": bob.email, "share_bp": 4000}],
        tiers=[{"up_to": "1000000.00", "rate_bp": 100}, {"up_to": None, "rate_bp": 200}],
        minimum_payout="25.00",
    )
    response = api_client_for(finance).post("/api/royalties/agreements/", body, format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["payees"][1]["user"] == bob.pk
    assert data["terms"][0]["minimum_payout"] == "25.00"
    assert data["terms"][0]["tiers"][1] == {"up_to": None, "rate_bp": 200}
    listed = api_client_for(finance).get("/api/royalties/agreements/").json()
    assert [a["id"] for a in listed] == [data["id"]]


@pytest.mark.parametrize(
    ("overrides", "shares", "message"),
    [
        ({}, (6000, 3999), "10,000"),
        ({"rate_bp": -5}, (6000, 4000), "between 0 and 10,000"),
        ({"currency": "XYZ"}, (6000, 4000), "Unknown currency"),
        ({"minimum_payout": "0.001"}, (6000, 4000), "decimal places"),
    ],
)
def test_bad_agreements_are_refused_with_a_clear_message_and_nothing_changes(finance, overrides, shares, message):
    payees = [{"user": UserFactory().pk, "share_bp": shares[0]}, {"user": UserFactory().pk, "share_bp": shares[1]}]
    response = api_client_for(finance).post(
        "/api/royalties/agreements/", _agreement_body(payees, **overrides), format="json"
    )
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert not Agreement.objects.exists()


def test_an_unknown_payee_is_refused(finance) -> None:
    response = api_client_for(finance).post(
        "/api/royalties/agreements/",
        _agreement_body([{"user": "nobody@example.com", "share_bp": 10000}]),
        format="json",
    )
    assert response.status_code == 400
    assert "nobody@example.com" in response.json()["detail"]


def test_a_sales_import_by_upload_lists_every_error_by_row_and_column(finance) -> None:
    agreement_make(codes=["SKU-1"], actor=finance)
    bad = SimpleUploadedFile("s.csv", csv_bytes("SKU-1,2026-7,EUR,1,0,0,,", "SKU-1,2026-07,EUR,x,0,0,,"))
    response = api_client_for(finance).post("/api/royalties/sales-imports/", {"file": bad}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"row": 2, "column": "month", "message": "“2026-7” is not a month: write YYYY-MM."},
        {
            "row": 3,
            "column": "gross_sales",
            "message": "'x' is not a number (write it like 1234.56, without thousands separators).",
        },
    ]
    good = SimpleUploadedFile("s.csv", csv_bytes("SKU-1,2026-07,EUR,1,0,0,,"))
    response = api_client_for(finance).post("/api/royalties/sales-imports/", {"file": good}, format="multipart")
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["status_label"]) == ("completed", "Completed")
    detail = api_client_for(finance).get(f"/api/royalties/sales-imports/{response.json()['id']}/")
    assert detail.json()["progress"] == 100
    assert SalesLine.objects.count() == 1


def test_an_upload_without_a_file_is_a_400(finance) -> None:
    response = api_client_for(finance).post("/api/royalties/sales-imports/", {}, format="multipart")
    assert response.status_code == 400


def test_fx_rates_runs_and_close_in_sequence(finance, django_capture_on_commit_callbacks) -> None:
    alice = UserFactory()
    agreement_make(payees=[alice], actor=finance)
    client = api_client_for(finance)
    response = client.post(
        "/api/royalties/fx-rates/",
        {"period": "2026-Q3", "from_currency": "USD", "to_currency": "EUR", "rate": "0.9"},
        format="json",
    )
    assert response.status_code == 201
    assert str(FxRate.objects.get().rate) == "0.90000000"
    sell(["SKU-1,2026-07,USD,1000.00,0,0"], actor=finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/royalties/runs/", {"period": "2026-Q3"}, format="json")
    assert response.status_code == 202
    run = client.get(f"/api/royalties/runs/{response.json()['id']}/").json()
    assert (run["status"], run["status_label"], run["progress"]) == ("done", "Done", 100)
    in_chinese = client.get(f"/api/royalties/runs/{run['id']}/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert in_chinese["status_label"] not in ("", "Done")
    assert client.post("/api/royalties/periods/2026-Q3/close/").json() == {"period": "2026-Q3", "state": "closed"}
    again = client.post("/api/royalties/runs/", {"period": "2026-Q3"}, format="json")
    assert again.status_code == 400
    assert "closed" in again.json()["detail"]
    statements = client.get("/api/royalties/statements/?period=2026-Q3").json()
    assert [(s["payee"], s["earned"], s["closing"]) for s in statements] == [(alice.pk, "9.00", "9.00")]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"period": "2026-Q3", "from_currency": "USD", "to_currency": "USD", "rate": "1"}, 400),
        ({"period": "2026-Q3", "from_currency": "USD", "to_currency": "EUR", "rate": "-1"}, 400),
        ({"period": "2026-13", "from_currency": "USD", "to_currency": "EUR", "rate": "1"}, 400),
        ({"period": "2026-Q3", "from_currency": "ABC", "to_currency": "EUR", "rate": "1"}, 400),
    ],
)
def test_bad_fx_rates_are_refused(finance, body, status) -> None:
    assert api_client_for(finance).post("/api/royalties/fx-rates/", body, format="json").status_code == status
    assert not FxRate.objects.exists()


def test_bad_run_requests_are_refused(finance) -> None:
    client = api_client_for(finance)
    assert client.post("/api/royalties/runs/", {"period": "2026-Q9"}, format="json").status_code == 400
    assert client.post("/api/royalties/runs/", {}, format="json").status_code == 400
    assert client.get("/api/royalties/runs/999/").status_code == 404
    assert client.post("/api/royalties/periods/2030-Q1/close/").status_code == 404
    assert client.get("/api/royalties/statements/?period=nope").status_code == 400


def test_payees_read_only_their_own_statements(finance) -> None:
    alice, bob = UserFactory(), UserFactory()
    agreement_make(payees=[alice, bob], actor=finance)
    sell(["SKU-1,2026-07,EUR,1000.00,0,0"], actor=finance)
    from rewards.services import royalty_run

    royalty_run(period="2026-Q3")
    mine = api_client_for(alice).get("/api/royalties/statements/?period=2026-Q3").json()
    assert [(s["payee"], s["earned"]) for s in mine] == [(alice.pk, "5.00")]
    assert len(api_client_for(finance).get("/api/royalties/statements/?period=2026-Q3").json()) == 2
    assert api_client_for(None).get("/api/royalties/statements/?period=2026-Q3").status_code in (401, 403)


FINANCE_ONLY = [
    ("get", "/api/royalties/agreements/"),
    ("post", "/api/royalties/agreements/"),
    ("post", "/api/royalties/sales-imports/"),
    ("get", "/api/royalties/sales-imports/1/"),
    ("post", "/api/royalties/fx-rates/"),
    ("post", "/api/royalties/runs/"),
    ("get", "/api/royalties/runs/1/"),
    ("post", "/api/royalties/periods/2026-Q3/close/"),
]


@pytest.mark.parametrize(("method", "url"), FINANCE_ONLY)
@pytest.mark.parametrize("role", ROLES)
def test_every_other_role_is_refused(request, role, method, url) -> None:
    user = request.getfixturevalue(role)
    response = getattr(api_client_for(user), method)(url, {}, format="json")
    assert response.status_code == 403
    assert not Period.objects.filter(state="closed").exists()


@pytest.mark.parametrize(("method", "url"), FINANCE_ONLY)
def test_anonymous_callers_are_refused(method, url) -> None:
    response = getattr(api_client_for(None), method)(url, {}, format="json")
    assert response.status_code in (401, 403)


def test_superusers_hold_the_finance_role(superuser) -> None:
    assert api_client_for(superuser).get("/api/royalties/agreements/").status_code == 200


def test_the_endpoints_are_in_the_openapi_schema(finance) -> None:
    schema = api_client_for(finance).get("/api/schema/", HTTP_ACCEPT="application/json").content.decode()
    for endpoint in (
        "/api/royalties/agreements/",
        "/api/royalties/sales-imports/",
        "/api/royalties/fx-rates/",
        "/api/royalties/runs/",
        "/api/royalties/runs/{id}/",
        "/api/royalties/periods/{period}/close/",
        "/api/royalties/statements/",
    ):
        assert endpoint in schema


def test_no_ledger_entry_is_posted_by_a_refused_call(customer) -> None:
    api_client_for(customer).post("/api/royalties/runs/", {"period": "2026-Q3"}, format="json")
    assert not LedgerEntry.objects.exists()
