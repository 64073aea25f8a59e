from __future__ import annotations

import pytest

from cocreate.errors import ConflictError, PermissionDeniedError
from ideas import services
from ideas.models import Comment, Idea, Notification, NotificationPreference, Report
from tests.factories import UserFactory
from tests.ideas.factories import CommentFactory, IdeaFactory

pytestmark = pytest.mark.django_db


def test_replies_stay_one_level_deep_and_notify_the_parent_author(site, customer, other_customer):
    idea = IdeaFactory()
    top = services.comment_add(idea=idea, author=customer, body="<p>Top</p>")
    reply = services.comment_add(idea=idea, author=other_customer, body="Reply", parent=top)
    nested = services.comment_add(idea=idea, author=other_customer, body="Nested", parent=reply)
    assert reply.parent == top
    assert nested.parent == top
    # Both replies land in the customer's thread, so both tell them.
    assert Notification.objects.filter(user=customer, kind="reply").count() == 2
    idea.refresh_from_db()
    assert idea.comments_count == 3


def test_mentions_notify_the_person_named(site, customer):
    named = UserFactory(email="lina@example.com")
    services.comment_add(idea=IdeaFactory(), author=customer, body="<p>What do you think @lina@example.com?</p>")
    assert Notification.objects.filter(user=named, kind="mention").count() == 1


def test_only_creators_post_updates_and_only_product_managers_answer_officially(
    site, customer, other_customer, product_manager
):
    idea = IdeaFactory(creator=customer)
    follower = UserFactory()
    services.follow_set(idea=idea, user=follower, follow=True)
    with pytest.raises(PermissionDeniedError):
        services.comment_add(idea=idea, author=other_customer, body="x", kind="update")
    with pytest.raises(PermissionDeniedError):
        services.comment_add(idea=idea, author=customer, body="x", kind="official")
    services.comment_add(idea=idea, author=customer, body="New prototype", kind="update")
    services.comment_add(idea=idea, author=product_manager, body="We are looking at it", kind="official")
    assert set(Notification.objects.filter(user=follower).values_list("kind", flat=True)) == {"update", "official"}
    idea.refresh_from_db()
    assert idea.first_official_response_at is not None


def test_frozen_ideas_take_no_comments(site, customer):
    idea = IdeaFactory(status=Idea.Status.ARCHIVED)
    with pytest.raises(ConflictError):
        services.comment_add(idea=idea, author=customer, body="late")
    assert Comment.objects.count() == 0


def test_script_in_a_comment_is_removed(site, customer):
    comment = services.comment_add(idea=IdeaFactory(), author=customer, body="<script>alert(1)</script><p>ok</p>")
    assert "script" not in comment.body


def test_reports_reach_moderators_once_and_hiding_resolves_them(site, customer, product_manager):
    comment = CommentFactory()
    services.report_create(reporter=customer, idea=comment.idea, comment=comment, reason="Spam")
    services.report_create(reporter=customer, idea=comment.idea, comment=comment, reason="Spam again")
    assert Report.objects.count() == 1
    services.comment_hide(comment=comment, moderator=product_manager)
    assert Report.objects.get().resolved_by == product_manager
    comment.refresh_from_db()
    assert comment.hidden_at is not None


def test_digest_preference_holds_back_immediate_email_and_the_digest_sends_once(
    site, customer, other_customer, django_capture_on_commit_callbacks, mailoutbox
):
    services.notification_preference_set(user=customer, email="daily")
    idea = IdeaFactory(creator=customer)
    with django_capture_on_commit_callbacks(execute=True):
        services.comment_add(idea=idea, author=other_customer, body="Nice")
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        assert services.digests_send(period="daily") == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert services.digests_send(period="daily") == 0
    assert len(mailoutbox) == 1
    assert "Nice" not in mailoutbox[0].body
    assert idea.title in mailoutbox[0].body
    assert NotificationPreference.objects.get(user=customer).last_digest_at is not None


def test_marking_notifications_read_clears_the_unread_count(site, customer):
    from ideas.selectors import unread_notifications_count

    services.notify(users=[customer], kind="status", idea=None, message="Hello", params={})
    assert unread_notifications_count(customer) == 1
    services.notifications_mark_read(user=customer)
    assert unread_notifications_count(customer) == 0
