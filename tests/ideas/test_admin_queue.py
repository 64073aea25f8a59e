from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from ideas.models import Idea, IdeaReview, Report, ReviewRound
from tests.conftest import logged_in_client
from tests.ideas.factories import CommentFactory, IdeaFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(customer, board_member, product_manager, finance, superuser):
    return {
        "anonymous": None,
        "customer": customer,
        "board_member": board_member,
        "product_manager": product_manager,
        "finance": finance,
        "superuser": superuser,
    }


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("anonymous", False),
        ("customer", False),
        ("board_member", False),
        ("product_manager", True),
        ("finance", False),
        ("superuser", True),
    ],
)
def test_the_moderation_queue_is_for_product_managers(site, people, role, allowed):
    user = people[role]
    client = Client() if user is None else logged_in_client(user)
    for url in ["/cms/ideas/moderation/", "/cms/ideas/review-rounds/"]:
        response = client.get(url)
        assert (response.status_code == 200) == allowed, (url, response.status_code)


def test_a_product_manager_publishes_and_rejects_from_the_queue(site, product_manager):
    waiting = IdeaFactory(status=Idea.Status.PENDING, title="Waiting idea")
    other = IdeaFactory(status=Idea.Status.PENDING)
    client = logged_in_client(product_manager)
    assert "Waiting idea" in client.get("/cms/ideas/moderation/").content.decode()
    client.post("/cms/ideas/moderation/", {"idea": waiting.pk, "decision": "publish"})
    client.post("/cms/ideas/moderation/", {"idea": other.pk, "decision": "reject", "reason": ""})
    waiting.refresh_from_db()
    other.refresh_from_db()
    assert waiting.status == Idea.Status.PUBLISHED
    assert other.status == Idea.Status.PENDING  # a rejection needs a reason


def test_a_reported_comment_is_hidden_from_the_queue(site, product_manager, customer):
    comment = CommentFactory()
    report = Report.objects.create(reporter=customer, idea=comment.idea, comment=comment, reason="Rude")
    logged_in_client(product_manager).post("/cms/ideas/moderation/", {"report": report.pk, "action": "hide"})
    comment.refresh_from_db()
    assert comment.hidden_at is not None


def test_a_review_round_is_opened_scored_and_decided_in_the_admin(site, product_manager):
    idea = IdeaFactory(status=Idea.Status.IN_REVIEW)
    client = logged_in_client(product_manager)
    response = client.post("/cms/ideas/review-rounds/", {"name": "Autumn", "deadline": dt.date.today().isoformat()})
    review_round = ReviewRound.objects.get()
    assert response.status_code == 302
    review = IdeaReview.objects.get(round=review_round)
    client.post(
        f"/cms/ideas/review-rounds/{review_round.pk}/",
        {"review": review.pk, "score_brand_fit": "4", "decision": "approved"},
    )
    review.refresh_from_db()
    idea.refresh_from_db()
    assert review.scores == {"brand_fit": 4}
    assert idea.status == Idea.Status.APPROVED
    assert client.get(f"/cms/ideas/review-rounds/{review_round.pk}/").status_code == 200
