from __future__ import annotations

import hashlib
import hmac
import json
from unittest import mock

import pytest

from ideas import services
from ideas.models import WebhookEndpoint
from ideas.webhooks import webhook_signature
from tests.ideas.factories import IdeaFactory

pytestmark = pytest.mark.django_db


class FakeResponse:
    status = 200

    def __enter__(self):
        return self

    def __exit__(self, *args):
        return False


def test_a_status_change_is_posted_signed_to_subscribed_endpoints_after_commit(
    site, product_manager, django_capture_on_commit_callbacks
):
    WebhookEndpoint.objects.create(url="https://hooks.example/ideas", secret="s3cret", events=["idea.status_changed"])
    WebhookEndpoint.objects.create(url="https://other.example/", secret="x", events=["comment.created"])
    idea = IdeaFactory()
    with (
        mock.patch("urllib.request.urlopen", return_value=FakeResponse()) as urlopen,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.idea_set_status(idea=idea, actor=product_manager, status="in_review")
    assert urlopen.call_count == 1
    request = urlopen.call_args.args[0]
    assert request.full_url == "https://hooks.example/ideas"
    body = request.data
    assert json.loads(body) == {
        "event": "idea.status_changed",
        "data": {"idea": idea.pk, "from": "published", "to": "in_review", "reason": ""},
    }
    timestamp = request.get_header("X-cocreate-timestamp")
    expected = hmac.new(b"s3cret", timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert request.get_header("X-cocreate-signature") == f"sha256={expected}"


def test_nothing_is_sent_when_the_change_rolls_back(site, product_manager):
    WebhookEndpoint.objects.create(url="https://hooks.example/", secret="s", events=["idea.status_changed"])
    with mock.patch("urllib.request.urlopen") as urlopen:
        services.idea_set_status(idea=IdeaFactory(), actor=product_manager, status="in_review")
    urlopen.assert_not_called()


def test_the_signature_covers_timestamp_and_body():
    assert webhook_signature(secret="k", timestamp="1", body=b"{}") != webhook_signature(
        secret="k", timestamp="2", body=b"{}"
    )
