"""Royalty run benchmark: 1,000 agreements and up to 1,000,000 sales lines.

Times ``rewards.services.royalty_run`` against a raw SQL ``GROUP BY`` over the same rows on the same database, and
measures the run's Python memory peak (tracemalloc) as the number of lines grows. Not a test: run it by hand.

    python tests/benchmarks/bench_royalty.py                       # SQLite, in a scratch file under /tmp
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cc_rewards python tests/benchmarks/bench_royalty.py
    python tests/benchmarks/bench_royalty.py --sizes 10000,50000   # a quick look

The scratch database is emptied of royalty data first; never point it at a database you care about.
"""

from __future__ import annotations

import argparse
import datetime
import os
import random
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "sqlite:////tmp/cc_rewards_bench.sqlite3")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cocreate.settings")


def _ensure_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


if os.environ["DATABASE_URL"].startswith("postgres"):
    _ensure_postgres_database(os.environ["DATABASE_URL"])

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from cocreate.models import User  # noqa: E402
from rewards import services  # noqa: E402
from rewards.models import (  # noqa: E402
    Agreement,
    AgreementProduct,
    AgreementTerms,
    FxRate,
    Period,
    SalesImport,
    TermsPayee,
)

PERIOD = "2026-Q3"
MONTHS = [datetime.date(2026, 7, 1), datetime.date(2026, 8, 1), datetime.date(2026, 9, 1)]
TABLES = [
    "rewards_payout",
    "rewards_ledgerentry",
    "rewards_royaltyresult",
    "rewards_royaltyrun",
    "rewards_salesline",
    "rewards_salesimport",
    "rewards_fxrate",
    "rewards_termspayee",
    "rewards_agreementterms",
    "rewards_agreementproduct",
    "rewards_auditentry",
    "rewards_agreement",
    "rewards_period",
]


def reset() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE " + ", ".join(TABLES) + " RESTART IDENTITY CASCADE")
        else:
            for table in TABLES:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names


def clear_run() -> None:
    """Forget the previous run so the next one posts afresh (bench only: the ledger is append-only in the app)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE rewards_payout, rewards_ledgerentry, rewards_royaltyresult, rewards_royaltyrun")
        else:
            for table in ("rewards_payout", "rewards_ledgerentry", "rewards_royaltyresult", "rewards_royaltyrun"):
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
    Period.objects.filter(code=PERIOD).update(state=Period.State.OPEN)


def setup_agreements(count: int) -> None:
    payees = []
    for index in range(40):
        email = f"bench-payee-{index}@example.com"
        user = User.objects.filter(email=email).first() or User.objects.create_user(email=email, password=None)
        payees.append(user)
    with transaction.atomic():
        agreements = Agreement.objects.bulk_create(
            Agreement(title=f"Bench {i}", currency="EUR", status=Agreement.Status.ACTIVE) for i in range(count)
        )
        AgreementProduct.objects.bulk_create(AgreementProduct(agreement=a, code=f"B-{a.pk}") for a in agreements)
        terms = AgreementTerms.objects.bulk_create(
            AgreementTerms(
                agreement=a,
                version=1,
                effective_from=datetime.date(2020, 1, 1),
                rate_bp=100,
                tiers=[{"up_to": "50000.00", "rate_bp": 100}, {"up_to": None, "rate_bp": 200}] if i % 3 == 0 else [],
                advance_minor=5000 if i % 4 == 0 else 0,
            )
            for i, a in enumerate(agreements)
        )
        rows = []
        for i, t in enumerate(terms):
            people = [payees[i % 40], payees[(i + 1) % 40], payees[(i + 2) % 40]][: 1 + i % 3]
            shares = services.money.equal_shares_bp(len(people))
            rows += [
                TermsPayee(terms=t, user=u, position=n, share_bp=s, consented_at=None)
                for n, (u, s) in enumerate(zip(people, shares, strict=True))
            ]
        TermsPayee.objects.bulk_create(rows)
        period = services.period_get_or_create(PERIOD)
        FxRate.objects.create(period=period, from_currency="USD", to_currency="EUR", rate="0.92150000")


def add_lines(start: int, stop: int, rng: random.Random) -> None:
    """Insert lines ``start..stop`` with executemany (the import path is measured elsewhere)."""
    period = Period.objects.get(code=PERIOD)
    record = SalesImport.objects.create(file_name=f"bench-{start}", file_hash=f"bench-{start}-{stop}")
    products = list(AgreementProduct.objects.values_list("agreement_id", "code"))
    sql = (
        "INSERT INTO rewards_salesline (sales_import_id, row_number, agreement_id, product_code, month, period_id, "
        "currency, gross_minor, returns_minor, discounts_minor, net_minor, territory, channel, line_key, is_late, "
        "adjusts_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, NULL)"
    )
    batch = []
    with transaction.atomic(), connection.cursor() as cursor:
        for n in range(start, stop):
            agreement_id, code = products[n % len(products)]
            gross = rng.randint(0, 5_000_000)
            returns = rng.randint(0, gross // 5) if n % 7 else rng.randint(0, gross * 2)
            discounts = rng.randint(0, gross // 10)
            batch.append(
                (
                    record.pk,
                    n + 2,
                    agreement_id,
                    code,
                    MONTHS[n % 3],
                    period.pk,
                    "USD" if n % 5 == 0 else "EUR",
                    gross,
                    returns,
                    discounts,
                    gross - returns - discounts,
                    "DE",
                    "retail",
                    f"bench-{n}",
                    False,
                )
            )
            if len(batch) == 20_000:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)
    SalesImport.objects.filter(pk=record.pk).update(status=SalesImport.Status.COMPLETED)


def raw_group_by() -> float:
    period_id = Period.objects.get(code=PERIOD).pk
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT agreement_id, month, currency, is_late, SUM(net_minor) FROM rewards_salesline "
            "WHERE period_id = %s GROUP BY agreement_id, month, currency, is_late",
            [period_id],
        )
        rows = cursor.fetchall()
    elapsed = time.perf_counter() - started
    assert rows
    return elapsed


def timed_run() -> tuple[float, int]:
    clear_run()
    started = time.perf_counter()
    run = services.royalty_run(period=PERIOD)
    return time.perf_counter() - started, run.entries_posted


def memory_run() -> int:
    clear_run()
    tracemalloc.start()
    services.royalty_run(period=PERIOD)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agreements", type=int, default=1000)
    parser.add_argument("--sizes", default="100000,300000,1000000", help="Line counts to measure, rising.")
    parser.add_argument("--repeat", type=int, default=3, help="Timings per size; the best is reported.")
    args = parser.parse_args()
    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    reset()
    setup_agreements(args.agreements)
    rng = random.Random(2026)
    print(f"engine={connection.vendor} agreements={args.agreements}")
    print(f"{'lines':>9} {'raw GROUP BY s':>15} {'royalty_run s':>14} {'ratio':>6} {'postings':>9} {'peak MiB':>9}")
    loaded = 0
    for size in (int(s) for s in args.sizes.split(",")):
        add_lines(loaded, size, rng)
        loaded = size
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE rewards_salesline")
        raw = min(raw_group_by() for _ in range(args.repeat))
        runs = [timed_run() for _ in range(args.repeat)]
        best = min(t for t, _n in runs)
        peak = memory_run()
        print(f"{size:>9} {raw:>15.3f} {best:>14.3f} {best / raw:>6.2f} {runs[0][1]:>9} {peak / 2**20:>9.2f}")
    started = time.perf_counter()
    again = services.royalty_run(period=PERIOD)
    print(f"rerun with nothing changed: {time.perf_counter() - started:.3f} s, {again.entries_posted} postings")


if __name__ == "__main__":
    main()
