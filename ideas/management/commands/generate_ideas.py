"""``manage.py generate_ideas --ideas 100000 --supports 1000000``: a large campaign for benchmarks.

Rows go in with PostgreSQL ``COPY`` (or large ``bulk_create`` batches on SQLite). Supporter counts are set from
the generated supports, so every count equals its rows. The new ideas are then added to the search index in
bulk (on PostgreSQL one ``INSERT … SELECT`` per few thousand, computed by the database), so search and the
similar-ideas suggestions find them.

Times look like a campaign's history: ideas were published over the past months (more of them recently), each a
few hours to days after it was submitted; supports fall between publication and now (or the deadline, for ideas
that expired without reaching the last milestone); an idea's ``first_milestone_at`` is the time of the support
that took it past the first milestone.
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import Model, OuterRef, Subquery
from django.utils import timezone

from cocreate.models import Organisation, User
from ideas.models import Idea, IdeaCampaignPage, Support
from ideas.services import ideas_search_index_sync

# Ideas were published up to this long ago; squaring a uniform draw puts more of them in the recent weeks.
HISTORY_DAYS = 180

TAGS = ["logistics", "mobile", "energy", "safety", "returns", "finance", "scanning", "yard", "cold-chain", "ui"]
WORDS = [
    "pallet",
    "scanner",
    "dock",
    "forklift",
    "label",
    "invoice",
    "route",
    "driver",
    "battery",
    "sensor",
    "yard",
    "return",
    "alert",
    "export",
]


@contextmanager
def _given_times(model: type[Model]) -> Iterator[None]:
    """Let ``bulk_create`` keep the generated times: ``auto_now``/``auto_now_add`` fields would otherwise be
    overwritten with the present moment (COPY on PostgreSQL does not go through them)."""
    fields = [
        f for f in model._meta.concrete_fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]  # type: ignore[attr-defined]
    for f in fields:
        f.auto_now = f.auto_now_add = False  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add  # type: ignore[attr-defined]


def _copy(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Stream rows into ``table`` with PostgreSQL COPY (text format)."""

    def cell(value: Any) -> str:
        if value is None:
            return "\\N"
        if isinstance(value, bool):
            return "t" if value else "f"
        text = str(value)
        return text.replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")

    with connection.cursor() as cursor:
        buffer = io.StringIO()
        count = 0
        sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for row in rows:
                buffer.write("\t".join(cell(v) for v in row))
                buffer.write("\n")
                count += 1
                if count % 20000 == 0:
                    copy.write(buffer.getvalue())
                    buffer = io.StringIO()
            copy.write(buffer.getvalue())


class Command(BaseCommand):
    help = "Generate a campaign with many ideas and supports for benchmarks (fast bulk inserts)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--ideas", type=int, default=100_000)
        parser.add_argument("--supports", type=int, default=1_000_000)
        parser.add_argument("--users", type=int, default=20_000, help="Supporters to create (bench{i}@example.com).")
        parser.add_argument("--campaign", default="benchmark-ideas", help="Slug of the campaign page to fill.")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, ideas: int, supports: int, users: int, campaign: str, seed: int, **o: Any) -> None:
        if ideas <= 0 or supports < 0 or users <= 0:
            raise CommandError("--ideas and --users must be positive, --supports zero or more.")
        if supports > ideas * users:
            raise CommandError("More supports than (idea, user) pairs.")
        rng = random.Random(seed)
        started = time.monotonic()
        page = self._campaign(campaign)
        people = self._users(users)
        self.stdout.write(f"users ready: {len(people)} ({time.monotonic() - started:.1f}s)")
        per_idea = self._spread(rng, ideas, supports, len(people))
        idea_ids = self._ideas(rng, page, people, per_idea)
        self.stdout.write(f"ideas inserted: {ideas} ({time.monotonic() - started:.1f}s)")
        self._supports(rng, idea_ids, people, per_idea)
        self.stdout.write(f"supports inserted: {sum(per_idea)} ({time.monotonic() - started:.1f}s)")
        if settings.IS_POSTGRES:
            # Fresh statistics before the correlated subqueries below: with none yet (autovacuum has not seen the
            # COPY), the planner walked the whole created_at index once per idea and the step took many minutes.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE ideas_idea; ANALYZE ideas_support;")
        marked = self._first_milestones(page, idea_ids)
        self.stdout.write(f"first milestones dated: {marked} ({time.monotonic() - started:.1f}s)")
        added = ideas_search_index_sync()
        self.stdout.write(f"search index: {added} ideas added ({time.monotonic() - started:.1f}s)")
        if settings.IS_POSTGRES:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE ideas_idea; ANALYZE wagtailsearch_indexentry;")
        self.stdout.write(self.style.SUCCESS(f"done in {time.monotonic() - started:.1f}s: campaign {page.url}"))

    def _campaign(self, slug: str) -> IdeaCampaignPage:
        from cocreate.services import site_ensure

        existing = IdeaCampaignPage.objects.filter(slug=slug).first()
        if existing is not None:
            return existing
        home = site_ensure()
        page = IdeaCampaignPage(title="Benchmark ideas", slug=slug, terms_version="bench")
        home.add_child(instance=page)
        page.save_revision().publish()
        return page

    def _users(self, count: int) -> list[int]:
        emails = [f"bench{i}@example.com" for i in range(count)]
        existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
        organisations = list(Organisation.objects.all()) or [
            Organisation.objects.create(name=f"Bench {tier}", tier=tier, domain=f"bench-{tier}.example")
            for tier in Organisation.Tier.values
        ]
        template = User(email="x@example.com")
        template.set_password("bench-password")
        new = [
            User(
                email=email,
                username=email,
                password=template.password,
                display_name=f"Bench {i}",
                organisation=organisations[i % len(organisations)],
            )
            for i, email in enumerate(emails)
            if email not in existing
        ]
        User.objects.bulk_create(new, batch_size=5000)
        from django.contrib.auth.models import Group

        from cocreate.roles import GROUP_NAMES, Role

        group, _ = Group.objects.get_or_create(name=GROUP_NAMES[Role.CUSTOMER])
        ids = list(User.objects.filter(email__in=emails).order_by("pk").values_list("pk", flat=True))
        through = User.groups.through
        member = set(through.objects.filter(group=group, user_id__in=ids).values_list("user_id", flat=True))
        through.objects.bulk_create(
            [through(group_id=group.pk, user_id=i) for i in ids if i not in member], batch_size=5000
        )
        return ids

    def _spread(self, rng: random.Random, ideas: int, supports: int, users: int) -> list[int]:
        """Supports per idea: heavy-tailed (a few popular ideas, a long tail), capped at the number of users."""
        weights = [1.0 / (rank + 10) ** 0.9 for rank in range(ideas)]
        rng.shuffle(weights)
        total = sum(weights)
        counts = [min(users, int(supports * w / total)) for w in weights]
        missing = supports - sum(counts)
        index = 0
        while missing > 0:
            if counts[index % ideas] < users:
                counts[index % ideas] += 1
                missing -= 1
            index += 1
        return counts

    def _ideas(self, rng: random.Random, page: IdeaCampaignPage, people: list[int], per_idea: list[int]) -> list[int]:
        now = timezone.now()
        milestones = page.milestone_list()

        self._windows: list[tuple[Any, Any]] = []

        def rows() -> Iterable[list[Any]]:
            for n, count in enumerate(per_idea):
                age = timedelta(days=HISTORY_DAYS * rng.random() ** 2, minutes=rng.randint(0, 1440))
                published = now - age
                submitted = published - timedelta(minutes=rng.randint(30, 3 * 24 * 60))
                reached = sum(1 for s, _d in milestones if count >= s)
                status = Idea.Status.IN_REVIEW if reached >= len(milestones) else Idea.Status.PUBLISHED
                extra = sum(d for _s, d in milestones[1 : reached + 1])
                deadline = None if status == Idea.Status.IN_REVIEW else published + timedelta(days=60 + extra)
                updated = published
                if deadline is not None and deadline < now:
                    status, updated = Idea.Status.EXPIRED, deadline
                # Supports arrive while the idea is open: from publication to now, or to its deadline.
                self._windows.append((published, min(now, deadline) if deadline else now))
                words = rng.sample(WORDS, 3)
                yield [
                    page.pk,
                    f"{words[0].title()} {words[1]} {words[2]} #{n}",
                    f"A benchmark idea about {words[0]} and {words[1]}.",
                    f"<p>Generated idea {n} about {' '.join(words)}.</p>",
                    status,
                    "",
                    people[n % len(people)],
                    count,
                    0,
                    reached,
                    count / ((age.total_seconds() / 3600 + 2) ** 1.4),
                    deadline,
                    submitted,
                    updated,
                    published,
                    "bench",
                    submitted,
                    "[]",
                    "",
                    False,
                    "",
                ]

        columns = [
            "campaign_id",
            "title",
            "summary",
            "description",
            "status",
            "status_reason",
            "creator_id",
            "supporters_count",
            "comments_count",
            "milestones_reached",
            "trending_score",
            "deadline",
            "created_at",
            "updated_at",
            "published_at",
            "terms_version",
            "terms_accepted_at",
            "product_codes",
            "not_approved_code",
            "not_approved_public",
            "owner_department",
        ]
        with transaction.atomic():
            before = Idea.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
            if settings.IS_POSTGRES:
                _copy("ideas_idea", columns, rows())
            else:
                with _given_times(Idea):
                    self._ideas_bulk_create(rows(), columns)
            ids = list(Idea.objects.filter(pk__gt=before).order_by("pk").values_list("pk", flat=True))
        if len(ids) != len(per_idea):
            raise CommandError("The ideas were not all inserted.")
        return ids

    def _ideas_bulk_create(self, rows: Iterable[list[Any]], columns: list[str]) -> None:
        batch: list[Idea] = []
        for row in rows:
            values = dict(zip(columns, row, strict=True))
            values["product_codes"] = []
            batch.append(Idea(**values))
            if len(batch) == 5000:
                Idea.objects.bulk_create(batch)
                batch = []
        Idea.objects.bulk_create(batch)

    def _supports(self, rng: random.Random, idea_ids: list[int], people: list[int], per_idea: list[int]) -> None:
        importance = ["", "", "nice", "important", "must"]

        def rows() -> Iterable[list[Any]]:
            for n, count in enumerate(per_idea):
                creator = people[n % len(people)]
                chosen = rng.sample(people, min(len(people), count + 1))
                chosen = [u for u in chosen if u != creator][:count]
                opened, closed = self._windows[n]
                span = (closed - opened).total_seconds()
                for user_id in chosen:
                    would_buy = rng.random() < 0.3
                    yield [
                        idea_ids[n],
                        user_id,
                        opened + timedelta(seconds=span * rng.random()),
                        rng.choice(importance),
                        would_buy if would_buy else None,
                        rng.randint(1, 50) if would_buy else None,
                        False,
                        True,
                    ]

        columns = ["idea_id", "user_id", "created_at", "importance", "would_buy", "quantity", "is_proxy", "counts"]
        with transaction.atomic():
            if settings.IS_POSTGRES:
                _copy("ideas_support", columns, rows())
            else:
                with _given_times(Support):
                    batch: list[Support] = []
                    for row in rows():
                        batch.append(Support(**dict(zip(columns, row, strict=True))))
                        if len(batch) == 10000:
                            Support.objects.bulk_create(batch)
                            batch = []
                    Support.objects.bulk_create(batch)

    def _first_milestones(self, page: IdeaCampaignPage, idea_ids: list[int]) -> int:
        """Date the first milestone of the new ideas that passed it: the time of its ``first``-th support. Few ideas
        pass it (supports are heavy-tailed), so one correlated subquery each is cheap."""
        first = page.milestone_list()[0][0]
        nth_support = (
            Support.objects.filter(idea=OuterRef("pk"))
            .order_by("created_at", "pk")
            .values("created_at")[first - 1 : first]
        )
        return Idea.objects.filter(
            pk__gte=idea_ids[0], pk__lte=idea_ids[-1], campaign=page, supporters_count__gte=first
        ).update(first_milestone_at=Subquery(nth_support))
