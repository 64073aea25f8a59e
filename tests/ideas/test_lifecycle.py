from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone

from cocreate.errors import ConflictError, DomainError, PermissionDeniedError
from ideas import services
from ideas.models import Comment, Follow, Idea, IdeaCoCreator, IdeaReview, Notification, Support
from tests.factories import UserFactory
from tests.ideas.factories import IdeaFactory, SupportFactory

pytestmark = pytest.mark.django_db


def test_a_published_idea_goes_to_review_as_a_staff_pick_then_to_commercialised(
    site, product_manager, django_capture_on_commit_callbacks
):
    idea = IdeaFactory()
    first, second = UserFactory(), UserFactory()
    now = timezone.now()
    IdeaCoCreator.objects.create(idea=idea, user=second, accepted_at=now)
    IdeaCoCreator.objects.create(idea=idea, user=first, accepted_at=now + dt.timedelta(minutes=1))
    IdeaCoCreator.objects.create(idea=idea, user=UserFactory())  # never accepted
    for status in ["in_review", "approved", "in_development"]:
        services.idea_set_status(idea=idea, actor=product_manager, status=status)
    with (
        mock.patch("rewards.services.agreement_draft_open", create=True) as agreement_draft_open,
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.idea_set_status(
            idea=idea,
            actor=product_manager,
            status="commercialised",
            product_codes=["SKU-1", "SKU-2"],
            launch_date=dt.date(2027, 3, 1),
        )
    agreement_draft_open.assert_called_once_with(
        idea_id=idea.pk,
        title=idea.title,
        product_codes=["SKU-1", "SKU-2"],
        launch_date=dt.date(2027, 3, 1),
        creator_ids=[idea.creator_id, second.pk, first.pk],
    )
    idea.refresh_from_db()
    assert idea.status == Idea.Status.COMMERCIALISED
    assert list(idea.status_changes.values_list("to_status", flat=True)) == [
        "in_review",
        "approved",
        "in_development",
        "commercialised",
    ]


def test_the_agreement_is_not_opened_when_the_transaction_rolls_back(site, product_manager):
    idea = IdeaFactory(status=Idea.Status.IN_DEVELOPMENT)
    with mock.patch("rewards.services.agreement_draft_open", create=True) as agreement_draft_open:
        services.idea_set_status(
            idea=idea, actor=product_manager, status="commercialised", product_codes=["A"], launch_date=dt.date.today()
        )
    agreement_draft_open.assert_not_called()  # on_commit never ran inside the test transaction


@pytest.mark.parametrize(
    ("start", "target"),
    [("published", "approved"), ("pending", "published"), ("commercialised", "published"), ("approved", "merged")],
)
def test_moves_outside_the_lifecycle_are_refused(site, product_manager, start, target):
    idea = IdeaFactory(status=start)
    with pytest.raises(ConflictError):
        services.idea_set_status(idea=idea, actor=product_manager, status=target)
    idea.refresh_from_db()
    assert idea.status == start


def test_commercialising_needs_product_codes_and_a_launch_date(site, product_manager):
    idea = IdeaFactory(status=Idea.Status.IN_DEVELOPMENT)
    with pytest.raises(DomainError):
        services.idea_set_status(idea=idea, actor=product_manager, status="commercialised", product_codes=[])
    with pytest.raises(DomainError):
        services.idea_set_status(idea=idea, actor=product_manager, status="commercialised", product_codes=["X"])
    assert Idea.objects.get().status == Idea.Status.IN_DEVELOPMENT


def test_archiving_posts_the_reason_as_an_official_response(site, product_manager):
    idea = IdeaFactory()
    services.idea_set_status(idea=idea, actor=product_manager, status="archived", reason="Licensing conflict")
    comment = Comment.objects.get()
    assert comment.kind == Comment.Kind.OFFICIAL
    assert "Licensing conflict" in comment.body
    idea.refresh_from_db()
    assert idea.first_official_response_at is not None


def test_customers_may_not_change_status(site, customer):
    with pytest.raises(PermissionDeniedError):
        services.idea_set_status(idea=IdeaFactory(), actor=customer, status="in_review")


def test_merging_moves_supporters_without_double_counting_and_can_be_undone(site, product_manager):
    source, target = IdeaFactory(), IdeaFactory()
    both, only_source, only_target = UserFactory(), UserFactory(), UserFactory()
    for user in (both, only_source):
        SupportFactory(idea=source, user=user)
    for user in (both, only_target):
        SupportFactory(idea=target, user=user)
    SupportFactory(idea=source, user=target.creator)  # the target's creator: moved but never counted
    Idea.objects.filter(pk=source.pk).update(supporters_count=3)
    Idea.objects.filter(pk=target.pk).update(supporters_count=2)
    Follow.objects.create(idea=source, user=only_source)
    Comment.objects.create(idea=source, author=both, body="<p>kept</p>")

    merge = services.idea_merge(source=source, target=target, actor=product_manager, reason="Duplicate")

    target.refresh_from_db()
    source.refresh_from_db()
    assert target.supporters_count == 3 == Support.objects.filter(idea=target, counts=True).count()
    assert source.status == Idea.Status.MERGED
    assert source.merged_into == target
    assert source.comments.count() == 1
    assert Follow.objects.filter(idea=target, user=only_source).exists()
    assert Notification.objects.filter(kind="merge", user=only_source).exists()
    assert merge.supports_moved == 2

    services.idea_unmerge(merge=merge, actor=product_manager)
    target.refresh_from_db()
    source.refresh_from_db()
    assert target.supporters_count == 2
    assert source.status == Idea.Status.PUBLISHED
    assert source.merged_into is None


def test_an_idea_cannot_be_merged_into_itself_or_a_merged_idea(site, product_manager):
    idea, other = IdeaFactory(), IdeaFactory()
    with pytest.raises(DomainError):
        services.idea_merge(source=idea, target=idea, actor=product_manager)
    services.idea_merge(source=other, target=idea, actor=product_manager)
    with pytest.raises(ConflictError):
        services.idea_merge(source=IdeaFactory(), target=other, actor=product_manager)


def test_a_review_round_takes_ideas_in_review_and_still_evaluating_carries_over(site, product_manager):
    keep, approve, reject = (IdeaFactory(status=Idea.Status.IN_REVIEW) for _ in range(3))
    IdeaFactory()  # still gathering support: not in the round
    first = services.review_round_open(actor=product_manager, name="Spring", deadline=dt.date.today())
    assert set(first.reviews.values_list("idea_id", flat=True)) == {keep.pk, approve.pk, reject.pk}
    reviews = {r.idea_id: r for r in first.reviews.select_related("idea", "round")}
    services.review_score(review=reviews[approve.pk], actor=product_manager, scores={"brand_fit": 5, "demand": 4})
    services.review_decide(review=reviews[approve.pk], actor=product_manager, decision="approved")
    services.review_decide(
        review=reviews[reject.pk],
        actor=product_manager,
        decision="not_approved",
        reason="Overlaps a product in development",
        reason_code="overlap",
        reason_public=True,
    )
    services.review_decide(review=reviews[keep.pk], actor=product_manager, decision="still_evaluating")
    services.review_round_close(review_round=first, actor=product_manager)
    second = services.review_round_open(actor=product_manager, name="Summer", deadline=dt.date.today())
    assert list(second.reviews.values_list("idea_id", flat=True)) == [keep.pk]
    assert Idea.objects.get(pk=approve.pk).status == Idea.Status.APPROVED
    rejected = Idea.objects.get(pk=reject.pk)
    assert rejected.status == Idea.Status.NOT_APPROVED
    assert rejected.not_approved_code == "overlap"
    assert IdeaReview.objects.get(round=first, idea=approve).scores == {"brand_fit": 5, "demand": 4}


def test_review_scores_outside_the_scale_are_refused(site, product_manager):
    IdeaFactory(status=Idea.Status.IN_REVIEW)
    review_round = services.review_round_open(actor=product_manager, name="R", deadline=dt.date.today())
    review = review_round.reviews.get()
    with pytest.raises(DomainError):
        services.review_score(review=review, actor=product_manager, scores={"brand_fit": 9})
