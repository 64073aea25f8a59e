"""Royalty runs, sales imports, minutes and webhooks asked for while the broker is down wait in the outbox."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import transaction
from kombu.exceptions import OperationalError

from cocreate import outbox
from cocreate.models import OutboxTask
from cocreate.outbox import outbox_flush
from ideas import services as idea_services
from ideas.models import WebhookDelivery, WebhookEndpoint
from ideas.tasks import deliver_webhook
from rewards.models import RoyaltyRun
from rewards.services import royalty_run_start
from rewards.tasks import royalty_run_task
from tests.ideas.factories import IdeaFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _broker_not_known_down(monkeypatch):
    monkeypatch.setattr(outbox, "_broker_down_until", 0.0)


def _down(task):
    return mock.patch.object(task, "apply_async", side_effect=OperationalError("Connection refused"))


class Answer:
    status = 200

    def __enter__(self):
        return self

    def __exit__(self, *args):
        return False


def test_a_royalty_run_asked_for_while_the_broker_is_down_runs_at_the_next_flush(
    finance, django_capture_on_commit_callbacks
) -> None:
    with _down(royalty_run_task), django_capture_on_commit_callbacks(execute=True):
        run = royalty_run_start(actor=finance, period="2026-Q3")
    row = OutboxTask.objects.get()
    assert (row.task, row.kwargs, row.published_at) == ("rewards.tasks.royalty_run_task", {"run_id": run.pk}, None)
    run.refresh_from_db()
    assert run.status == RoyaltyRun.Status.QUEUED

    outbox._broker_down_until = 0.0
    assert outbox_flush() == 1
    run.refresh_from_db()
    assert run.status == RoyaltyRun.Status.DONE
    assert not OutboxTask.objects.exists()


def test_a_webhook_is_stored_with_the_change_and_delivered_once_the_broker_is_back(
    site, product_manager, django_capture_on_commit_callbacks
) -> None:
    WebhookEndpoint.objects.create(url="https://hooks.example/ideas", secret="s", events=["idea.status_changed"])
    idea = IdeaFactory()
    with _down(deliver_webhook), django_capture_on_commit_callbacks(execute=True):
        idea_services.idea_set_status(idea=idea, actor=product_manager, status="in_review")
    waiting = OutboxTask.objects.filter(task="ideas.tasks.deliver_webhook")
    assert waiting.count() == 1
    assert not WebhookDelivery.objects.exists()

    outbox._broker_down_until = 0.0
    with mock.patch("urllib.request.urlopen", return_value=Answer()) as urlopen:
        assert outbox_flush() >= 1
    assert urlopen.call_count == 1
    assert list(WebhookDelivery.objects.values_list("status_code", "succeeded")) == [(200, True)]
    assert not waiting.exists()


def test_a_change_that_rolls_back_leaves_no_webhook_in_the_outbox(site, product_manager) -> None:
    WebhookEndpoint.objects.create(url="https://hooks.example/", secret="s", events=["idea.status_changed"])
    idea = IdeaFactory()

    def change_then_fail() -> None:
        with transaction.atomic():
            idea_services.idea_set_status(idea=idea, actor=product_manager, status="in_review")
            raise RuntimeError("the caller fails after the change")

    with mock.patch("urllib.request.urlopen") as urlopen, pytest.raises(RuntimeError):
        change_then_fail()
    urlopen.assert_not_called()
    assert not OutboxTask.objects.filter(task="ideas.tasks.deliver_webhook").exists()


def test_the_heartbeat_has_a_queue_of_its_own(settings) -> None:
    from cocreate.celery import app
    from cocreate.tasks import heartbeat

    assert {queue.name for queue in settings.CELERY_TASK_QUEUES} == {"celery", "heartbeat"}
    assert app.amqp.router.route({}, heartbeat.name)["queue"].name == "heartbeat"
    assert app.amqp.router.route({}, royalty_run_task.name)["queue"].name == "celery"
