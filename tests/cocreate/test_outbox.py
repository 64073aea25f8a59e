"""A task asked for while the broker is down waits in the outbox and is published, once, when it is back."""

from __future__ import annotations

import datetime
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone
from kombu.exceptions import OperationalError

from cocreate import outbox
from cocreate.mail import email_user_on_commit
from cocreate.models import OutboxTask
from cocreate.outbox import outbox_flush
from cocreate.tasks import send_email
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

BROKER_DOWN = mock.patch.object(send_email, "apply_async", side_effect=OperationalError("Connection refused"))


@pytest.fixture(autouse=True)
def _broker_not_known_down(monkeypatch):
    monkeypatch.setattr(outbox, "_broker_down_until", 0.0)


@pytest.fixture
def hello_template(tmp_path, settings):
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "hello_subject.txt").write_text("Hello")
    (tmp_path / "t" / "hello_body.txt").write_text("Hello {{ user.public_name }}")
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "DIRS": [tmp_path, *engine["DIRS"]]}]


def test_an_email_asked_for_while_the_broker_is_down_waits_and_goes_once_at_the_next_flush(
    hello_template, django_capture_on_commit_callbacks
) -> None:
    user = UserFactory()
    with BROKER_DOWN, django_capture_on_commit_callbacks(execute=True):
        email_user_on_commit(user=user, template="t/hello", context={}, idempotency_key="outbox-1")
    row = OutboxTask.objects.get()
    assert (row.task, row.published_at, row.attempts) == ("cocreate.tasks.send_email", None, 1)
    assert mail.outbox == []
    assert outbox_flush() == 0  # this process leaves the broker alone for BROKER_BACKOFF_SECONDS

    outbox._broker_down_until = 0.0  # the back-off is over
    assert outbox_flush() == 1
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert not OutboxTask.objects.exists()  # the task deleted its row when done
    assert outbox_flush() == 0


def test_a_task_the_broker_lost_is_published_again_after_the_redelivery_delay(settings) -> None:
    settings.OUTBOX_REDELIVER_AFTER = 600
    long_ago = timezone.now() - datetime.timedelta(seconds=601)
    lost = OutboxTask.objects.create(
        task="cocreate.tasks.send_email",
        kwargs={"to": ["a@example.com"], "subject": "Hi", "text": "Body", "idempotency_key": "outbox-2"},
    )
    OutboxTask.objects.filter(pk=lost.pk).update(published_at=long_ago)
    recent = OutboxTask.objects.create(
        task="cocreate.tasks.send_email",
        kwargs={"to": ["b@example.com"], "subject": "Hi", "text": "Body", "idempotency_key": "outbox-3"},
    )
    OutboxTask.objects.filter(pk=recent.pk).update(published_at=timezone.now())

    assert outbox_flush() == 1
    assert [m.to for m in mail.outbox] == [["a@example.com"]]
    assert list(OutboxTask.objects.values_list("pk", flat=True)) == [recent.pk]


def test_a_lost_task_whose_email_had_gone_is_done_without_a_second_email() -> None:
    assert send_email(to=["a@example.com"], subject="Hi", text="Body", idempotency_key="outbox-4") is True
    row = OutboxTask.objects.create(
        task="cocreate.tasks.send_email",
        kwargs={"to": ["a@example.com"], "subject": "Hi", "text": "Body", "idempotency_key": "outbox-4"},
    )
    assert outbox_flush() == 1
    assert len(mail.outbox) == 1
    assert not OutboxTask.objects.filter(pk=row.pk).exists()
