"""When a session ends: minutes as a page, a PDF and an e-mail to members; action item reminders."""

from __future__ import annotations

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from boards import services
from boards.models import ActionItem, Poll, Session
from boards.selectors import session_access
from boards.tasks import action_item_reminders
from cocreate.errors import ConflictError
from tests.conftest import logged_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def ended(room, site, django_capture_on_commit_callbacks):
    """A session that had a question, a poll, a decision and an action item, then ended."""
    host = session_access(user=room.facilitator, session_id=room.session.pk)
    member = session_access(user=room.member, session_id=room.session.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.question_ask(access=member, user=room.member, body="Will it scale?", anonymous=True)
        opened = services.poll_open(access=host, user=room.facilitator, question="Priority?", options=["Speed", "Cost"])
        services.poll_vote(
            access=member, user=room.member, poll=opened.payload["poll"], options=[opened.payload["options"][0]["id"]]
        )
        services.decision_record(access=host, user=room.facilitator, text="Focus on speed")
        services.action_item_create(
            access=host, user=room.facilitator, title="Share benchmark", owner=room.member.pk, due_date="2026-12-01"
        )
        services.session_end(access=host, user=room.facilitator)
    return room


def test_ending_a_session_closes_its_polls_and_emails_the_minutes_to_each_member(ended):
    assert Session.objects.get(pk=ended.session.pk).state == Session.State.ENDED
    assert Poll.objects.get().state == Poll.State.CLOSED
    assert sorted(m.to[0] for m in mail.outbox) == sorted([ended.member.email, ended.member2.email])
    body = mail.outbox[0].body
    assert f"/boards/sessions/{ended.session.pk}/minutes/" in body
    assert f"/boards/sessions/{ended.session.pk}/survey/" in body


def test_the_minutes_page_lists_decisions_questions_polls_and_action_items(ended):
    body = logged_in_client(ended.member2).get(f"/boards/sessions/{ended.session.pk}/minutes/").content.decode()
    for text in ("Focus on speed", "Will it scale?", "Priority?", "Share benchmark", "Speed"):
        assert text in body
    assert "Mia Member" in body  # the action item's owner
    assert body.count("anonymous") >= 1


def test_the_minutes_pdf_is_a_pdf(ended):
    response = logged_in_client(ended.member).get(f"/boards/sessions/{ended.session.pk}/minutes.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_ending_twice_is_refused(ended):
    host = session_access(user=ended.facilitator, session_id=ended.session.pk)
    with pytest.raises(ConflictError):
        services.session_end(access=host, user=ended.facilitator)


def test_reminders_go_once_to_owners_of_open_items_coming_due(ended, django_capture_on_commit_callbacks):
    item = ActionItem.objects.get()
    mail.outbox.clear()
    far = ActionItem.objects.create(
        session=item.session,
        title="Later",
        owner=ended.member2,
        due_date=datetime.date(2027, 6, 1),
        created_by=ended.facilitator,
    )
    now = timezone.make_aware(datetime.datetime(2026, 11, 30, 7, 5))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.action_item_reminders_send(now=now) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.action_item_reminders_send(now=now) == 0
    assert [m.to[0] for m in mail.outbox] == [ended.member.email]
    assert "Share benchmark" in mail.outbox[0].subject
    far.refresh_from_db()
    assert far.reminder_sent_at is None


def test_the_reminder_task_skips_done_items(ended, django_capture_on_commit_callbacks):
    ActionItem.objects.update(status=ActionItem.Status.DONE, due_date=timezone.now().date())
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert action_item_reminders() == 0
    assert mail.outbox == []


def test_the_owner_or_a_facilitator_marks_an_action_item_done_and_no_one_else(ended):
    item = ActionItem.objects.get()
    assert item.owner == ended.member
    logged_in_client(ended.member2).post(f"/boards/action-items/{item.pk}/status/", {"status": "done"})
    item.refresh_from_db()
    assert item.status == ActionItem.Status.OPEN
    response = logged_in_client(ended.member).post(f"/boards/action-items/{item.pk}/status/", {"status": "done"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == ActionItem.Status.DONE
    logged_in_client(ended.facilitator).post(f"/boards/action-items/{item.pk}/status/", {"status": "open"})
    item.refresh_from_db()
    assert item.status == ActionItem.Status.OPEN
    assert (
        logged_in_client(ended.outsider).post(f"/boards/action-items/{item.pk}/status/", {"status": "done"}).status_code
        == 403
    )
