from __future__ import annotations

import pytest

from cocreate.errors import ConflictError, DomainError, PermissionDeniedError
from ideas import services
from ideas.models import Follow, Idea, IdeaCoCreator, Support
from tests.factories import UserFactory
from tests.ideas.factories import IdeaFactory, SupportFactory

pytestmark = pytest.mark.django_db


def test_supporting_counts_once_and_is_idempotent(site, customer):
    idea = IdeaFactory()
    first = services.support_add(idea=idea, user=customer, importance="must", would_buy=True, quantity=20)
    second = services.support_add(idea=idea, user=customer)
    assert (first.supporters, first.created) == (1, True)
    assert (second.supporters, second.created) == (1, False)
    support = Support.objects.get()
    assert (support.importance, support.would_buy, support.quantity) == ("must", True, 20)
    assert Follow.objects.filter(idea=idea, user=customer).exists()


def test_withdrawing_is_idempotent_and_exact(site, customer):
    idea = IdeaFactory()
    services.support_add(idea=idea, user=customer)
    assert services.support_withdraw(idea=idea, user=customer).supporters == 0
    assert services.support_withdraw(idea=idea, user=customer).supporters == 0
    assert Idea.objects.get().supporters_count == 0 == Support.objects.count()


def test_the_creators_support_is_kept_but_not_counted(site, customer):
    idea = IdeaFactory(creator=customer)
    result = services.support_add(idea=idea, user=customer)
    assert result.supporters == 0
    assert Support.objects.get().counts is False


def test_an_accepted_co_creators_support_stops_counting(site, customer, other_customer):
    idea = IdeaFactory(creator=customer)
    invitation = IdeaCoCreator.objects.create(idea=idea, user=other_customer)
    services.support_add(idea=idea, user=other_customer)
    services.cocreator_respond(cocreator=invitation, user=other_customer, accept=True)
    idea.refresh_from_db()
    assert idea.supporters_count == 0
    assert invitation.accepted_at is not None
    assert invitation.terms_version == idea.campaign.terms_version


@pytest.mark.parametrize("status", [Idea.Status.PENDING, Idea.Status.EXPIRED, Idea.Status.MERGED])
def test_ideas_not_gathering_support_refuse_support(site, customer, status):
    target = IdeaFactory()
    idea = IdeaFactory(status=status, merged_into=target if status == Idea.Status.MERGED else None)
    with pytest.raises(ConflictError):
        services.support_add(idea=idea, user=customer)
    assert Support.objects.count() == 0


def test_withdrawing_after_the_idea_went_to_review_is_refused(site, customer):
    idea = IdeaFactory()
    services.support_add(idea=idea, user=customer)
    Idea.objects.filter(pk=idea.pk).update(status=Idea.Status.IN_REVIEW)
    idea.refresh_from_db()
    with pytest.raises(ConflictError):
        services.support_withdraw(idea=idea, user=customer)
    assert Support.objects.count() == 1


def test_bad_support_options_are_refused(site, customer):
    idea = IdeaFactory()
    with pytest.raises(DomainError):
        services.support_add(idea=idea, user=customer, importance="urgent")
    with pytest.raises(DomainError):
        services.support_add(idea=idea, user=customer, would_buy=True, quantity=0)
    assert Support.objects.count() == 0


def test_finance_and_anonymous_may_not_support(site, finance):
    with pytest.raises(PermissionDeniedError):
        services.support_add(idea=IdeaFactory(), user=finance)


def test_a_product_manager_records_proxy_support_for_a_customer_contact(site, customer, product_manager):
    idea = IdeaFactory()
    result = services.support_add(idea=idea, user=customer, recorded_by=product_manager, importance="important")
    support = Support.objects.get()
    assert result.supporters == 1
    assert support.is_proxy
    assert support.recorded_by == product_manager


def test_a_customer_may_not_record_proxy_support(site, customer, other_customer):
    with pytest.raises(PermissionDeniedError):
        services.support_add(idea=IdeaFactory(), user=customer, recorded_by=other_customer)


def test_support_is_rate_limited_per_user(site, customer, settings):
    ideas = IdeaFactory.create_batch(3)
    from cocreate.errors import RateLimitedError

    for idea in ideas:
        services.support_add(idea=idea, user=customer)
    import ideas.services as module

    for _ in range(117):
        module.support_withdraw(idea=ideas[0], user=customer)
    with pytest.raises(RateLimitedError):
        module.support_withdraw(idea=ideas[0], user=customer)


def test_recount_matches_rows(site):
    idea = IdeaFactory(supporters_count=7)
    SupportFactory.create_batch(3, idea=idea)
    SupportFactory(idea=idea, user=UserFactory(), counts=False)
    assert services.support_recount(idea=idea) == 3
