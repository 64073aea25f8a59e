from __future__ import annotations

from unittest import mock

import pytest
from celery.exceptions import Retry
from django.core import mail
from django.core.cache import cache

from cocreate.mail import email_user_on_commit
from cocreate.tasks import send_email
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_email_with_the_same_key_is_sent_once() -> None:
    assert send_email(to=["a@example.com"], subject="Hi", text="Body", idempotency_key="k1") is True
    assert send_email(to=["a@example.com"], subject="Hi", text="Body", idempotency_key="k1") is False
    assert len(mail.outbox) == 1


def test_a_failed_send_releases_its_key_so_the_retry_can_send() -> None:
    with (
        mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=OSError("SMTP down")),
        pytest.raises(OSError, match="SMTP down"),
    ):
        send_email.run(to=["a@example.com"], subject="Hi", text="Body", idempotency_key="k2")
    assert send_email(to=["a@example.com"], subject="Hi", text="Body", idempotency_key="k2") is True


def test_a_delivery_that_finds_another_sending_retries_later_and_sends_nothing_now() -> None:
    cache.add("email-sending:k3", 1, timeout=60)  # another delivery of the same task is sending right now
    with pytest.raises(Retry):
        send_email.run(to=["a@example.com"], subject="Hi", text="Body", idempotency_key="k3")
    assert mail.outbox == []


def test_a_worker_killed_mid_send_leaves_the_email_unmarked_so_the_redelivery_sends_it() -> None:
    # KeyboardInterrupt stands for the process dying inside send(): no handler of the task runs.
    with (
        mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=KeyboardInterrupt),
        pytest.raises(KeyboardInterrupt),
    ):
        send_email.run(to=["a@example.com"], subject="Hi", text="Body", idempotency_key="k4")
    cache.delete("email-sending:k4")  # the claim expires after EMAIL_CLAIM_SECONDS
    assert send_email(to=["a@example.com"], subject="Hi", text="Body", idempotency_key="k4") is True
    assert len(mail.outbox) == 1


def test_the_email_task_retries_with_backoff_and_acks_late() -> None:
    assert send_email.autoretry_for == (OSError,)
    assert send_email.retry_backoff == 5
    assert send_email.acks_late is True
    assert send_email.max_retries == 8


def test_service_emails_leave_only_after_commit_in_the_users_language(
    django_capture_on_commit_callbacks,
    tmp_path,
    settings,
) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "hello_subject.txt").write_text("{% load i18n %}{% translate 'Log in' %}")
    (tmp_path / "t" / "hello_body.txt").write_text("Hello {{ user.public_name }}")
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**engine, "DIRS": [tmp_path, *engine["DIRS"]]}]
    user = UserFactory(display_name="Ada", preferred_language="zh-hans")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        email_user_on_commit(user=user, template="t/hello", context={}, idempotency_key="hello-1")
        assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert mail.outbox[0].subject == "登录"
    assert mail.outbox[0].body == "Hello Ada"
