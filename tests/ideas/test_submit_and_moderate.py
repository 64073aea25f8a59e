from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from cocreate.errors import ConflictError, DomainError, PermissionDeniedError
from ideas import services
from ideas.models import Idea, IdeaCampaignPage, IdeaCoCreator, Notification, StatusChange
from tests.factories import OrganisationFactory, UserFactory
from tests.ideas.factories import campaign_create

pytestmark = pytest.mark.django_db


def submit(campaign, creator, **overrides):
    fields = {
        "campaign": campaign,
        "creator": creator,
        "title": "Pallet tracking by phone",
        "summary": "Scan pallets with any phone camera.",
        "description": "<p>We lose <b>pallets</b>.</p>",
        "terms_accepted": True,
    }
    fields.update(overrides)
    return services.idea_submit(**fields)


def test_a_submitted_idea_waits_for_moderation_and_records_the_accepted_terms(site, customer):
    campaign = campaign_create(parent=site, terms_version="2026-11")
    idea = submit(campaign, customer, tags=["Logistics", "mobile", "logistics"])
    assert idea.status == Idea.Status.PENDING
    assert idea.terms_version == "2026-11"
    assert idea.terms_accepted_at is not None
    assert sorted(idea.tags.names()) == ["logistics", "mobile"]
    assert idea.published_at is None


def test_script_in_any_field_is_removed(site, customer):
    idea = submit(
        campaign_create(parent=site),
        customer,
        title="<script>alert(1)</script>Safer title",
        summary="<img src=x onerror=alert(1)>Sum",
        description='<p onclick="x()">Hi<script>alert(1)</script></p>',
    )
    assert "<" not in idea.title
    assert "script" not in idea.description
    assert "onclick" not in idea.description
    assert "onerror" not in idea.summary


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", ""), ("title", "x" * 121), ("summary", " "), ("description", "<p> </p>"), ("terms_accepted", False)],
)
def test_empty_or_oversize_fields_are_refused_and_nothing_is_saved(site, customer, field, value):
    campaign = campaign_create(parent=site)
    with pytest.raises(DomainError):
        submit(campaign, customer, **{field: value})
    assert Idea.objects.count() == 0


def test_submitting_the_same_idea_twice_is_a_conflict(site, customer):
    campaign = campaign_create(parent=site)
    submit(campaign, customer)
    with pytest.raises(ConflictError):
        submit(campaign, customer)
    assert Idea.objects.count() == 1


def test_only_chosen_organisations_take_part_in_a_restricted_campaign(site, customer, other_customer):
    campaign = campaign_create(parent=site, participation=IdeaCampaignPage.Participation.ORGANISATIONS)
    campaign.organisations.add(customer.organisation)
    campaign.save()
    submit(campaign, customer)
    with pytest.raises(PermissionDeniedError):
        submit(campaign, other_customer, title="Other")


def test_finance_may_not_submit_ideas(site, finance):
    with pytest.raises(PermissionDeniedError):
        submit(campaign_create(parent=site), finance)


def test_co_creators_are_invited_and_notified(site, customer):
    friend = UserFactory(email="friend@example.com", organisation=OrganisationFactory())
    idea = submit(campaign_create(parent=site), customer, cocreators=["friend@example.com"])
    invitation = IdeaCoCreator.objects.get(idea=idea)
    assert invitation.user == friend
    assert invitation.accepted_at is None
    assert Notification.objects.filter(user=friend, kind=Notification.Kind.INVITATION).count() == 1


def test_an_unknown_co_creator_is_a_clear_error(site, customer):
    with pytest.raises(DomainError, match=r"nobody@example\.com"):
        submit(campaign_create(parent=site), customer, cocreators=["nobody@example.com"])
    assert Idea.objects.count() == 0


def test_publishing_starts_the_first_window_and_tells_the_creator(
    site, customer, product_manager, django_capture_on_commit_callbacks, mailoutbox
):
    idea = submit(campaign_create(parent=site), customer)
    with django_capture_on_commit_callbacks(execute=True):
        services.idea_moderate(idea=idea, moderator=product_manager, decision="publish")
    idea.refresh_from_db()
    assert idea.status == Idea.Status.PUBLISHED
    assert idea.deadline - idea.published_at == timedelta(days=60)
    assert Notification.objects.filter(user=customer, kind="status").count() == 1
    assert [m.to for m in mailoutbox] == [[customer.email]]


def test_needs_work_may_be_resubmitted_only_after_the_delay(site, customer, product_manager):
    idea = submit(campaign_create(parent=site), customer)
    services.idea_moderate(idea=idea, moderator=product_manager, decision="needs_work", reason="Add a photo")
    idea.refresh_from_db()
    assert idea.status == Idea.Status.NEEDS_WORK
    assert idea.status_reason == "Add a photo"
    with pytest.raises(ConflictError):
        services.idea_resubmit(idea=idea, user=customer, title="T", summary="S", description="<p>D</p>")
    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        services.idea_resubmit(idea=idea, user=customer, title="T2", summary="S", description="<p>D</p>")
    idea.refresh_from_db()
    assert idea.status == Idea.Status.PENDING
    assert idea.title == "T2"


def test_moderation_needs_a_reason_to_reject_and_the_role(site, customer, other_customer, product_manager):
    idea = submit(campaign_create(parent=site), customer)
    with pytest.raises(PermissionDeniedError):
        services.idea_moderate(idea=idea, moderator=other_customer, decision="publish")
    with pytest.raises(DomainError):
        services.idea_moderate(idea=idea, moderator=product_manager, decision="reject", reason="")
    services.idea_moderate(idea=idea, moderator=product_manager, decision="reject", reason="Off topic")
    with pytest.raises(ConflictError):
        services.idea_moderate(idea=idea, moderator=product_manager, decision="publish")
    assert Idea.objects.get().status == Idea.Status.REJECTED
    assert list(StatusChange.objects.values_list("to_status", flat=True)) == ["pending", "rejected"]


def test_a_campaign_without_moderation_publishes_at_once(site, customer):
    idea = submit(campaign_create(parent=site, moderation_required=False), customer)
    assert idea.status == Idea.Status.PUBLISHED
