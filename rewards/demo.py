"""Royalty demo data: an agreement with two payees, a quarter of sales (EUR and USD), the USD rate, and the
quarter calculated, so the dashboard, statements and payouts have something to show. Idempotent."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction

from cocreate.demo import DemoPeople
from rewards import services
from rewards.models import Agreement, Period, SalesImport

DEMO_IDEA_TITLE = "Modular cable tidy for hot desks"
DEMO_CODE = "CT-100"

SALES = """product_code,month,currency,gross_sales,returns,discounts,territory,channel
CT-100,2026-07,EUR,412000.00,8250.00,12100.00,DE,retail
CT-100,2026-07,USD,188500.00,2100.00,4000.00,US,online
CT-100,2026-08,EUR,398400.50,9900.00,11850.25,DE,retail
CT-100,2026-08,USD,203300.00,3050.00,4400.00,US,online
CT-100,2026-09,EUR,455120.00,10020.00,13000.00,FR,retail
CT-100,2026-09,USD,221000.00,2900.00,5200.00,US,online
"""


def seed_demo(*, people: DemoPeople) -> list[str]:
    if Agreement.objects.filter(title=DEMO_IDEA_TITLE).exists():
        return ["royalty demo already present"]
    finance = people.finance
    with transaction.atomic():
        agreement = services.agreement_create(
            actor=finance,
            title=DEMO_IDEA_TITLE,
            currency="EUR",
            terms=services.TermsInput(
                effective_from=datetime.date(2026, 7, 1),
                rate_bp=100,
                tiers=[{"up_to": "2000000.00", "rate_bp": 100}, {"up_to": None, "rate_bp": 150}],
                minimum_payout=Decimal("50.00"),
                advance=Decimal("1000.00"),
            ),
            payees=[(people.customer, 6000), (people.customer2, 4000)],
            product_codes=[DEMO_CODE],
        )
        services.payee_consent(user=people.customer, agreement=agreement)
        services.fx_rate_set(
            actor=finance, period="2026-Q3", from_currency="USD", to_currency="EUR", rate=Decimal("0.92150000")
        )
    if not SalesImport.objects.filter(file_name="demo-2026-Q3.csv").exists():
        services.sales_import_csv(actor=finance, file_name="demo-2026-Q3.csv", content=SALES.encode())
    if Period.objects.get(code="2026-Q3").state == Period.State.OPEN:
        services.royalty_run(period="2026-Q3")
    created = services.payouts_create(actor=finance, period="2026-Q3")
    return [
        f"agreement “{agreement.title}” (60/40, {DEMO_CODE}), 6 sales lines in 2026-Q3, USD→EUR rate, "
        f"period calculated, {len(created)} payout line(s)"
    ]
