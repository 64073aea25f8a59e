"""The weekly digest for executives: last week's figures and the ideas that moved, once per person and week."""

from __future__ import annotations

import datetime
from typing import Any
from unittest import mock

import time_machine
from django.core import mail
from django.utils import translation

from cocreate.insights import digest
from cocreate.insights.tasks import send_weekly_digest
from cocreate.models import User
from cocreate.roles import Role
from tests.factories import UserFactory
from tests.insights.conftest import World

MONDAY = datetime.date(2026, 2, 16)  # the week before: 2026-02-09 to 2026-02-15


def test_the_digest_goes_to_staff_and_product_managers_only(
    world: World, customer: User, board_member: User, django_capture_on_commit_callbacks: Any
) -> None:
    pm_not_staff = UserFactory(roles=[Role.PRODUCT_MANAGER], is_staff=False)
    with django_capture_on_commit_callbacks(execute=True):
        sent = digest.weekly_digest_send(today=MONDAY)
    recipients = {m.to[0] for m in mail.outbox}
    assert sent == len(recipients) == 2
    assert recipients == {world.pm.email, pm_not_staff.email}
    assert customer.email not in recipients
    assert board_member.email not in recipients


def test_the_digest_has_the_weeks_figures_and_the_ideas_that_moved(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        digest.weekly_digest_send(today=MONDAY)
    (message,) = mail.outbox
    assert message.subject == "cocreate this week (2026-02-09 to 2026-02-15)"
    body = message.body
    # 2026-02-09..15: i4 submitted (and published at once); session s NPS 10, 6, 8 → 0.0; CSAT 2 and 4 → 3.0.
    assert "Ideas submitted: 1 (published so far: 1)" in body
    assert "NPS: 0.0 (3 answers: 1 promoters, 1 passives, 1 detractors)" in body
    assert "Satisfaction (1 to 5): 3.0 (2 answers, 50.0 % satisfied)" in body
    # i1 approved on the 10th; i4 published on the 14th (its submission is not a move).
    assert f"2026-02-10 “{world.ideas['i1'].title}”: In review → Approved" in body
    assert f"2026-02-14 “{world.ideas['i4'].title}”: Pending moderation → Gathering support" in body
    assert "Ideas that moved (2)" in body
    assert "/insights/" in body


def test_an_empty_week_says_no_data(world: World, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        digest.weekly_digest_send(today=datetime.date(2025, 6, 2))
    body = mail.outbox[0].body
    assert "NPS: no data" in body
    assert "Satisfaction (1 to 5): no data" in body
    assert "- none" in body


def test_the_digest_is_rendered_in_each_recipients_language(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    world.pm.preferred_language = "zh-hans"
    world.pm.save()
    seen: list[str | None] = []

    def render(name: str, context: dict[str, Any]) -> str:
        seen.append(translation.get_language())
        return name

    with mock.patch("cocreate.mail.render_to_string", side_effect=render):
        digest.weekly_digest_send(today=MONDAY)
    assert set(seen) == {"zh-hans"}


def test_the_task_sends_once_per_person_and_week(world: World, django_capture_on_commit_callbacks: Any) -> None:
    with time_machine.travel(datetime.datetime(2026, 2, 16, 7, 30, tzinfo=datetime.UTC)):
        for _ in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                send_weekly_digest.delay()
    assert len(mail.outbox) == 1
