"""Insights benchmark: how long /insights/ takes to render with 100,000 ideas and 1,000,000 supports, as a ratio
to bare views measured in the same process and run (not part of the test suite).

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/cc_insights_bench   # or a sqlite:/// URL
    python tests/benchmarks/bench_insights.py [--ideas 100000] [--supports 1000000] [--users 20000] [--repeat 7]

The first run migrates the database and fills it with the ideas app's ``generate_ideas`` command, then adds what
the insights read beyond it: status history (submission, publication, review) for every idea, official responses
on a third of them, session attendance, and survey answers. Later runs reuse the data.

Measured through Django's test client with a product manager's session (median of ``--repeat`` requests):
- bare: an ``HttpResponse`` through the full middleware stack; layout: ``base.html`` rendered for the same user;
- insights (cached): the page as people see it, figures from the cache that the beat task keeps warm;
- insights (cold): the page right after the cache is emptied, every figure computed from the database (the
  heaviest from the roll-ups the scheduled task keeps, as in production); the same for a part-month range (the
  15th of the first month to the 10th of the last finished one) and for the benchmark board;
- the scheduled refresh (roll-ups rebuilt from nothing, then a run with nothing changed, a run after 100 new
  supports and 20 withdrawn, then the response waits alone: incremental after 100 new official responses, and
  from nothing), each figure alone, a CSV export, and the
  heaviest figures computed from the source tables without roll-ups, for the default, part-month and board
  filters.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import secrets
import statistics
import sys
import time
import types
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cocreate.settings")
os.environ.setdefault("DEBUG", "1")  # static files without a manifest; DEBUG is turned off after setup
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(60))
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import F, Min  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.shortcuts import render  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.utils import timezone  # noqa: E402

from boards.models import Board, BoardMembership, Session, SessionEvent  # noqa: E402
from cocreate.insights import figures, rollups, selectors  # noqa: E402
from cocreate.insights.selectors import InsightFilters  # noqa: E402
from cocreate.models import (  # noqa: E402
    ActivityMonth,
    BoardActivityMonth,
    BoardIdea,
    IdeaDemand,
    IdeaDigest,
    ResponseWait,
    RollupRefresh,
    SessionPresence,
    Survey,
    SurveyAnswer,
    User,
)
from cocreate.roles import Role  # noqa: E402
from cocreate.services import role_grant, roles_sync, site_ensure  # noqa: E402
from ideas.models import Idea, IdeaCampaignPage, StatusChange, Support  # noqa: E402

CAMPAIGN = "benchmark-ideas"


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def layout(request: HttpRequest) -> HttpResponse:
    return render(request, "base.html", {})


urls = types.ModuleType("bench_insights_urls")
urls.urlpatterns = [  # type: ignore[attr-defined]
    path("bench/bare/", bare),
    path("bench/layout/", layout),
    path("", include("cocreate.urls")),
]
sys.modules["bench_insights_urls"] = urls


def generate(*, ideas: int, supports: int, users: int) -> None:
    call_command("migrate", verbosity=0)
    roles_sync()
    site_ensure()
    if not IdeaCampaignPage.objects.filter(slug=CAMPAIGN).exists():
        call_command("generate_ideas", ideas=ideas, supports=supports, users=users, campaign=CAMPAIGN)
    pm, _created = User.objects.get_or_create(
        email="bench-pm@example.com", defaults={"username": "bench-pm@example.com", "is_staff": True}
    )
    role_grant(user=pm, role=Role.PRODUCT_MANAGER)
    if not StatusChange.objects.filter(idea__campaign__slug=CAMPAIGN).exists():
        _history_add(pm)
    if not SessionPresence.objects.exists():
        _boards_add()


def _history_add(pm: User) -> None:
    ideas = Idea.objects.filter(campaign__slug=CAMPAIGN).count()
    started = time.monotonic()
    campaign_id = IdeaCampaignPage.objects.get(slug=CAMPAIGN).pk
    table = connection.ops.quote_name(StatusChange._meta.db_table)
    ideas_table = connection.ops.quote_name(Idea._meta.db_table)
    moves = [
        ("", "pending", "created_at", "", None),
        ("pending", "published", "published_at", "", pm.pk),
        ("published", "in_review", "published_at", " AND status = 'in_review'", None),
    ]
    with connection.cursor() as cursor:
        for from_status, to_status, at, condition, actor in moves:
            cursor.execute(
                f"INSERT INTO {table} (idea_id, from_status, to_status, reason, actor_id, created_at) "  # noqa: S608
                f"SELECT id, %s, %s, '', %s, {at} FROM {ideas_table} WHERE campaign_id = %s{condition}",
                [from_status, to_status, actor, campaign_id],
            )
    first = Idea.objects.filter(campaign_id=campaign_id).aggregate(first=Min("pk"))["first"]
    Idea.objects.filter(campaign_id=campaign_id, pk__lt=first + ideas // 3).update(
        first_official_response_at=F("published_at") + timedelta(hours=30)
    )
    print(f"added status history and official responses in {time.monotonic() - started:.1f}s")


def _boards_add() -> None:
    started = time.monotonic()
    pm = User.objects.get(email="bench-pm@example.com")
    customers = list(User.objects.filter(email__startswith="bench").exclude(pk=pm.pk).order_by("pk")[:2000])
    board, _created = Board.objects.get_or_create(name="Benchmark board", defaults={"charter_text": "Confidential."})
    Session.objects.filter(board=board).delete()  # what an interrupted earlier run left
    BoardMembership.objects.bulk_create(
        [BoardMembership(board=board, user=user) for user in customers[:200]], ignore_conflicts=True
    )
    now = timezone.now()
    events = []
    presences = []
    for week in range(8):
        session = Session.objects.create(
            board=board,
            title=f"Benchmark session {week}",
            starts_at=now - timedelta(days=7 * week + 1),
            ends_at=now - timedelta(days=7 * week + 1) + timedelta(hours=2),
            state=Session.State.ENDED,
            ended_at=now - timedelta(days=7 * week + 1) + timedelta(hours=2),
        )
        events += [
            SessionEvent(session=session, seq=seq, kind="chat.message", author=user)
            for seq, user in enumerate(customers[:150], start=1)
        ]
        presences += [
            SessionPresence(session=session, user=user, first_joined_at=session.starts_at, last_seen_at=session.ends_at)
            for user in customers[:180]
        ]
    SessionEvent.objects.bulk_create(events, batch_size=5000)
    SessionPresence.objects.bulk_create(presences, batch_size=5000)
    answers = []
    for quarter in range(4):
        survey, created = Survey.objects.get_or_create(
            kind=Survey.Kind.NPS, occasion=Survey.Occasion.QUARTER, period=f"bench-{quarter}"
        )
        if not created:
            continue
        answers += [
            SurveyAnswer(
                survey=survey,
                respondent=user,
                kind=Survey.Kind.NPS,
                score=(user.pk + quarter) % 11,
                organisation_id=user.organisation_id,
                tier=user.organisation.tier if user.organisation else "",
            )
            for user in customers
        ]
    SurveyAnswer.objects.bulk_create(answers, batch_size=5000)
    print(f"added sessions, presence, chat and {len(answers)} survey answers in {time.monotonic() - started:.1f}s")


def median_ms(action: Callable[[], object], repeat: int, *, before: Callable[[], object] | None = None) -> float:
    times = []
    for _ in range(repeat):
        if before:
            before()
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ideas", type=int, default=100_000)
    parser.add_argument("--supports", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    settings.ROOT_URLCONF = "bench_insights_urls"
    generate(ideas=args.ideas, supports=args.supports, users=args.users)
    print(
        f"engine {connection.vendor}: {Idea.objects.count():,} ideas, {Support.objects.count():,} supports, "
        f"{StatusChange.objects.count():,} status changes, {SurveyAnswer.objects.count():,} survey answers"
    )
    settings.DEBUG = False  # no query log; static storage was already chosen (no manifest needed)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    pm = User.objects.get(email="bench-pm@example.com")
    client = Client()
    client.force_login(pm)

    def get(url: str) -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    filters = InsightFilters.default()
    finished = timezone.localdate().replace(day=1) - timedelta(days=1)
    part_month = dataclasses.replace(filters, start=filters.start.replace(day=15), end=finished.replace(day=10))
    board = dataclasses.replace(filters, board_id=Board.objects.get(name="Benchmark board").pk)

    timed = {}
    for label, action, setup in (
        ("refresh task, roll-ups from scratch", figures.figures_refresh, _rollups_clear),
        ("refresh task, right after (figures only)", figures.figures_refresh, None),
        ("refresh task, 15 min later (nothing changed)", _refresh_later, None),
        ("roll-ups, 20 min later (100 supports, 20 withdrawn)", _refresh_after_changes, _support_changes),
        ("boards' ideas (BoardIdea), rebuilt", rollups.board_ideas_rebuild, None),
        ("response waits, incremental (100 new responses)", _waits_incremental, None),
        ("response waits, incremental (nothing new)", _waits_again, None),
        ("response waits, from nothing", lambda: rollups.response_waits_refresh(whole=True), None),
    ):
        if setup:
            setup()  # untimed
        started = time.perf_counter()
        action()
        timed[label] = (time.perf_counter() - started) * 1000

    get("/bench/bare/")
    baseline = median_ms(lambda: get("/bench/bare/"), args.repeat * 3)
    get("/bench/layout/")
    layout_ms = median_ms(lambda: get("/bench/layout/"), args.repeat * 3)
    get("/insights/")
    cached = median_ms(lambda: get("/insights/"), args.repeat * 3)
    cold = median_ms(lambda: get("/insights/"), args.repeat, before=cache.clear)
    cold_part = median_ms(lambda: get(f"/insights/?{_query(part_month)}"), args.repeat, before=cache.clear)
    cold_board = median_ms(lambda: get(f"/insights/?{_query(board)}"), args.repeat, before=cache.clear)
    csv_cached = median_ms(lambda: get("/insights/export/participation.csv"), args.repeat * 3)

    rows = [
        ("bare view (HttpResponse)", baseline),
        ("layout (base.html)", layout_ms),
        ("insights, cached figures", cached),
        ("insights, cold cache", cold),
        ("insights, cold, part months", cold_part),
        ("insights, cold, board filter", cold_board),
        ("CSV export, cached", csv_cached),
    ]
    print(f"\n{'request':<32}{'median ms':>12}{'x bare':>10}{'x layout':>10}")
    for name, value in rows:
        print(f"{name:<32}{value:>12.1f}{value / baseline:>10.1f}{value / layout_ms:>10.1f}")
    print()
    for label, value in timed.items():
        print(f"{label:<56}{value:>12.1f} ms")

    # The filtered sets once each: from the source tables they take up to a minute on SQLite.
    for title, chosen, repeat in (
        ("default 12 months", filters, max(3, args.repeat // 2)),
        ("part months", part_month, 1),
        ("board", board, 1),
    ):
        print(f"\n{'selector, ' + title:<32}{'median ms':>12}")
        for name, selector in selectors.METRICS.items():
            print(f"{name:<32}{median_ms(lambda s=selector, f=chosen: s(f), repeat):>12.1f}")
        print("from the sources (no roll-ups)")
        for name in ("_response_times_live", "_activity_live", "_demand_live"):
            selector = selectors._tuned(getattr(selectors, name))
            print(f"{name:<32}{median_ms(lambda s=selector, f=chosen: s(f), 1):>12.1f}")


def _waits_again() -> None:
    print(f"response waits, again: {rollups.response_waits_refresh(now=timezone.now() + timedelta(minutes=45))}")


def _query(filters: InsightFilters) -> str:
    """The page's query string for ``filters`` (dates and board)."""
    query = f"start={filters.start:%Y-%m-%d}&end={filters.end:%Y-%m-%d}"
    return f"{query}&board={filters.board_id}" if filters.board_id else query


def _waits_incremental() -> None:
    """100 published ideas without an answer get one, then the response waits are brought up to date (in the
    same future as ``_refresh_later``, whose run set the watermark)."""
    waiting = Idea.objects.filter(
        campaign__slug=CAMPAIGN, published_at__isnull=False, first_official_response_at__isnull=True
    ).values("pk")[:100]
    later = timezone.now() + timedelta(minutes=30)
    Idea.objects.filter(pk__in=list(waiting.values_list("pk", flat=True))).update(
        first_official_response_at=later - timedelta(minutes=12)
    )
    print(f"response waits, incremental: {rollups.response_waits_refresh(now=later)}")


def _refresh_later() -> None:
    """What a beat run does when nothing changed since the previous one: the digests read, no roll-up rewritten
    (the response waits of the ideas saved within the overlap excepted), then the figures."""
    filters = InsightFilters.default()
    print(
        f"refresh 15 min later: {rollups.rollups_refresh(filters.months(), now=timezone.now() + timedelta(minutes=15))}"
    )
    figures.figures_refresh(filters)


def _refresh_after_changes() -> None:
    """The roll-ups' refresh after ``_support_changes`` (the ideas touched and two months rewritten)."""
    result = rollups.rollups_refresh(InsightFilters.default().months(), now=timezone.now() + timedelta(minutes=20))
    print(f"refresh after changes: {result}")


def _support_changes() -> None:
    """100 new supports of the latest ideas, and 20 supports of last month withdrawn."""
    last_month = timezone.localdate().replace(day=1) - timedelta(days=1)
    users = list(User.objects.filter(email__startswith="bench").order_by("-pk").values_list("pk", flat=True)[:100])
    ideas = list(Idea.objects.filter(campaign__slug=CAMPAIGN).order_by("-pk").values_list("pk", flat=True)[:100])
    Support.objects.bulk_create(
        [Support(idea_id=idea, user_id=user) for idea, user in zip(ideas, users, strict=True)], ignore_conflicts=True
    )
    withdrawn = Support.objects.filter(
        created_at__date__gte=last_month.replace(day=1), created_at__date__lte=last_month
    ).order_by("pk")[:20]
    Support.objects.filter(pk__in=list(withdrawn.values_list("pk", flat=True))).delete()


def _rollups_clear() -> None:
    for model in (ActivityMonth, BoardActivityMonth, BoardIdea, IdeaDemand, IdeaDigest, ResponseWait, RollupRefresh):
        model.objects.all().delete()


if __name__ == "__main__":
    main()
