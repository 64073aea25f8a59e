"""Builders for royalty tests: agreements with payees, sales files, and a one-call "sell, run" helper."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from cocreate.models import User
from cocreate.roles import Role
from rewards import services
from rewards.models import Agreement
from tests.factories import UserFactory

HEADER = "product_code,month,currency,gross_sales,returns,discounts,territory,channel"


def finance_user() -> User:
    return UserFactory(roles=[Role.FINANCE], is_staff=True)


def agreement_make(
    *,
    payees: Sequence[User] | None = None,
    shares: Sequence[int] | None = None,
    codes: Sequence[str] = ("SKU-1",),
    currency: str = "EUR",
    rate_bp: int = 100,
    tiers: list[dict[str, Any]] | None = None,
    rounding: str = "half_up",
    minimum_payout: str = "0",
    advance: str = "0",
    effective_from: datetime.date = datetime.date(2020, 1, 1),
    consent: bool = True,
    actor: User | None = None,
) -> Agreement:
    actor = actor or finance_user()
    payees = list(payees) if payees is not None else [UserFactory(roles=[Role.CUSTOMER])]
    shares = list(shares) if shares is not None else None
    if shares is None:
        from rewards.money import equal_shares_bp

        shares = equal_shares_bp(len(payees))
    agreement = services.agreement_create(
        actor=actor,
        title=f"Agreement for {codes[0]}",
        currency=currency,
        terms=services.TermsInput(
            effective_from=effective_from,
            rate_bp=rate_bp,
            tiers=tiers or [],
            rounding=rounding,
            minimum_payout=Decimal(minimum_payout),
            advance=Decimal(advance),
        ),
        payees=list(zip(payees, shares, strict=True)),
        product_codes=codes,
    )
    if consent:
        for user in payees:
            services.payee_consent(user=user, agreement=agreement)
    return agreement


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


_counter = [0]


def sell(rows: Sequence[str], *, actor: User | None = None) -> None:
    """Import rows (``"SKU-1,2026-07,EUR,1000.00,0,0"``); territory/channel are made unique so files never repeat."""
    _counter[0] += 1
    body = [row if row.count(",") >= 7 else f"{row},T{_counter[0]},C{index}" for index, row in enumerate(rows)]
    services.sales_import_csv(actor=actor or finance_user(), file_name="sales.csv", content=csv_bytes(*body))
