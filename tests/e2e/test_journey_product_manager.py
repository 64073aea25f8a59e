"""A product manager's journey, in English and in simplified Chinese: moderate two submissions in the Wagtail
admin (publish one, send one back with a reason), merge a duplicate, post an official response, run a review
round that approves the idea, and take it to market, after which finance finds a draft royalty agreement."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from cocreate.roles import Role
from ideas import services as idea_services
from ideas.models import Comment, Idea, IdeaReview, Support
from rewards.models import Agreement
from tests.e2e.conftest import LANGUAGES, expect_language, login, new_page, shot
from tests.factories import UserFactory
from tests.ideas.factories import IdeaFactory, campaign_create

pytestmark = pytest.mark.e2e


def status_of(idea: Idea) -> str:
    idea.refresh_from_db()
    return idea.status


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_product_manager_moderates_merges_answers_reviews_and_commercialises(
    browser: Browser, asgi_server: Any, language: str
) -> None:
    campaign = campaign_create(title="Warehouse ideas", slug=f"warehouse-pm-{language}")
    creator = UserFactory(roles=[Role.CUSTOMER])
    to_publish = IdeaFactory(campaign=campaign, title="Solar panels on the dock", status=Idea.Status.PENDING)
    to_rework = IdeaFactory(campaign=campaign, title="Make it better", creator=creator, status=Idea.Status.PENDING)
    target = IdeaFactory(campaign=campaign, title="Pallet tracker")
    duplicate = IdeaFactory(campaign=campaign, title="Track the pallets")
    for fan in UserFactory.create_batch(2, roles=[Role.CUSTOMER]):
        idea_services.support_add(idea=duplicate, user=fan)
    idea_services.support_add(idea=target, user=UserFactory(roles=[Role.CUSTOMER]))
    pm = UserFactory(roles=[Role.PRODUCT_MANAGER], is_staff=True)
    finance = UserFactory(roles=[Role.FINANCE], is_staff=True)
    page = new_page(browser, asgi_server.url, language)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    step = f"journey-pm-{language}"

    # 1. The moderation queue in the Wagtail admin: publish one, send the other back with a reason.
    login(page, asgi_server, pm.email)
    page.goto(asgi_server.url + "/cms/ideas/moderation/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_test_id("queue-item")).to_have_count(2)
    if language != "en":
        expect(page.get_by_test_id("admin-publish").first).to_have_text("发布")
    shot(page, f"{step}-01-moderation-queue")
    page.get_by_test_id("queue-item").filter(has_text=to_publish.title).get_by_test_id("admin-publish").click()
    expect(page.get_by_test_id("queue-item")).to_have_count(1)
    rework = page.get_by_test_id("queue-item").filter(has_text=to_rework.title)
    rework.locator("textarea[name=reason]").fill("Say which warehouse and what it would save.")
    rework.locator("button[value=needs_work]").click()
    expect(page.get_by_test_id("queue-item")).to_have_count(0)
    shot(page, f"{step}-02-queue-empty")
    assert status_of(to_publish) == Idea.Status.PUBLISHED
    assert status_of(to_rework) == Idea.Status.NEEDS_WORK
    assert to_rework.status_reason == "Say which warehouse and what it would save."

    # 2. Merge the duplicate: its two supporters join the target's one; the duplicate points at the target.
    page.goto(f"{asgi_server.url}/ideas/{duplicate.pk}/demand/")
    page.fill("#merge-target", str(target.pk))
    page.locator("form[action$='/merge/'] input[name=reason]").fill("Same idea as the pallet tracker.")
    shot(page, f"{step}-03-merge-form")
    page.locator("form[action$='/merge/'] button[type=submit]").click()
    page.wait_for_url(asgi_server.url + target.get_absolute_url())
    expect_language(page, language)
    expect(page.get_by_test_id("supporters")).to_have_text("3")
    shot(page, f"{step}-04-merged-target")
    page.goto(asgi_server.url + duplicate.get_absolute_url())
    expect(page.get_by_test_id("idea-status")).to_have_class(re.compile(r"\bstatus-merged\b"))
    expect(page.locator(f".message a[href='{target.get_absolute_url()}']")).to_have_text(target.title)
    shot(page, f"{step}-05-merged-duplicate")
    assert Support.objects.filter(idea=target, counts=True).count() == 3

    # 3. An official response on the target.
    page.goto(asgi_server.url + target.get_absolute_url())
    page.fill("#comment-body", "We are looking at tracker hardware for next year.")
    page.select_option("#comment-kind", "official")
    page.get_by_test_id("comment-form").locator("button[type=submit]").click()
    expect(page.locator("section.official")).to_contain_text("We are looking at tracker hardware")
    shot(page, f"{step}-06-official-response")
    assert Comment.objects.filter(idea=target, kind=Comment.Kind.OFFICIAL).count() == 1

    # 4. Into review, a round with a score and the decision to approve.
    page.select_option("#status-select", Idea.Status.IN_REVIEW)
    page.locator(".status-form button[type=submit]").click()
    expect(page.get_by_test_id("idea-status")).to_have_class(re.compile(r"\bstatus-in_review\b"))
    page.goto(asgi_server.url + "/cms/ideas/review-rounds/")
    page.fill("#round-name", "Winter round")
    page.fill("#round-deadline", (timezone.localdate() + datetime.timedelta(days=14)).isoformat())
    shot(page, f"{step}-07-review-rounds")
    page.locator("form:has(#round-name) button").click()
    page.wait_for_url(re.compile(r"/cms/ideas/review-rounds/\d+/$"))
    review = IdeaReview.objects.get(idea=target)
    form = page.locator(f"form:has(input[name=review][value='{review.pk}'])")
    for criterion, score in (("brand_fit", "5"), ("feasibility", "4"), ("demand", "4")):
        form.locator(f"select[name=score_{criterion}]").select_option(score)
    form.locator("select[name=decision]").select_option(IdeaReview.Decision.APPROVED)
    form.locator("input[name=reason]").fill("Strong demand from three accounts.")
    shot(page, f"{step}-08-review-scored")
    with page.expect_navigation():
        form.locator("button").click()
    expect(page.locator("select[name=score_brand_fit]")).to_have_value("5")
    shot(page, f"{step}-09-review-decided")
    review.refresh_from_db()
    assert review.scores == {"brand_fit": 5, "feasibility": 4, "demand": 4}
    assert review.decision == IdeaReview.Decision.APPROVED
    assert status_of(target) == Idea.Status.APPROVED

    # 5. In development, then commercialised with a product code and a launch date.
    page.goto(asgi_server.url + target.get_absolute_url())
    page.select_option("#status-select", Idea.Status.IN_DEVELOPMENT)
    page.locator(".status-form button[type=submit]").click()
    expect(page.get_by_test_id("idea-status")).to_have_class(re.compile(r"\bstatus-in_development\b"))
    page.select_option("#status-select", Idea.Status.COMMERCIALISED)
    page.fill("#status-codes", "SKU-PALLET-1")
    page.fill("#status-launch", "2027-03-01")
    shot(page, f"{step}-10-commercialise")
    page.locator(".status-form button[type=submit]").click()
    expect(page.get_by_test_id("idea-status")).to_have_class(re.compile(r"\bstatus-commercialised\b"))
    expect(page.locator(".message-success .chip")).to_have_text("SKU-PALLET-1")
    shot(page, f"{step}-11-commercialised")
    assert errors == []

    # 6. Finance sees the draft royalty agreement the commercialisation opened.
    agreement = Agreement.objects.get(idea_id=target.pk)
    assert agreement.status == Agreement.Status.DRAFT
    assert [p.code for p in agreement.products.all()] == ["SKU-PALLET-1"]
    books = new_page(browser, asgi_server.url, language)
    login(books, asgi_server, finance.email)
    books.goto(asgi_server.url + "/royalties/agreements/")
    expect_language(books, language)
    row = books.locator("tbody tr").filter(has_text=f"#{target.pk}")
    expect(row.locator(".status")).to_have_class(re.compile(r"\bstatus-draft\b"))
    expect(row).to_contain_text("SKU-PALLET-1")
    shot(books, f"{step}-12-finance-draft-agreement")
