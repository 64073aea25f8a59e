from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from cocreate.roles import Role
from ideas.models import Idea, Support
from tests.e2e.conftest import login, shot
from tests.factories import OrganisationFactory, UserFactory
from tests.ideas.factories import IdeaFactory, campaign_create

pytestmark = pytest.mark.e2e


def logout(page: Page) -> None:
    page.get_by_test_id("logout").click()


def test_submit_moderate_publish_support_and_reach_a_milestone(page: Page, asgi_server: Any) -> None:
    campaign = campaign_create(
        title="Warehouse ideas",
        slug="warehouse",
        milestones=[("milestone", {"supporters": 2, "days": 10}), ("milestone", {"supporters": 5, "days": 30})],
    )
    IdeaFactory(campaign=campaign, title="Solar forklift charger")
    creator = UserFactory(email="ada@example.com", roles=[Role.CUSTOMER], organisation=OrganisationFactory())
    fans = [UserFactory(roles=[Role.CUSTOMER], organisation=OrganisationFactory(tier="gold")) for _ in range(2)]
    pm = UserFactory(email="pm@example.com", roles=[Role.PRODUCT_MANAGER], is_staff=True)
    console_errors: list[str] = []
    # Wagtail's admin asks Gravatar for avatars, which this offline machine cannot resolve: only our pages count.
    page.on(
        "console",
        lambda msg: console_errors.append(msg.text) if msg.type == "error" and "/cms/" not in page.url else None,
    )

    # Submit, with a similar idea suggested while typing.
    login(page, asgi_server, creator.email)
    page.goto(asgi_server.url + campaign.url)
    page.get_by_test_id("submit-idea").click()
    page.fill("#id_title", "Solar panels on the loading dock")
    # Under CI load the debounced lookup can take seconds; the suggestion must still come.
    expect(page.get_by_test_id("similar-ideas")).to_contain_text("Solar forklift charger", timeout=20_000)
    page.fill("#id_summary", "Charge the forklifts from the dock roof.")
    page.fill("#id_description", "The dock roof is empty and sunny.\n\nPanels would pay back in three years.")
    page.fill("#id_tags", "energy, dock")
    page.check("#id_terms_accepted")
    shot(page, "ideas-01-submit")
    page.get_by_role("button", name="Submit for moderation").click()
    expect(page.get_by_test_id("idea-status")).to_have_text("Pending moderation")
    idea = Idea.objects.get(title="Solar panels on the loading dock")
    logout(page)

    # A product manager publishes it from the Wagtail moderation queue.
    login(page, asgi_server, pm.email)
    page.goto(asgi_server.url + "/cms/ideas/moderation/")
    expect(page.get_by_test_id("queue-item")).to_contain_text("Solar panels on the loading dock")
    shot(page, "ideas-02-moderation-queue")
    page.get_by_test_id("admin-publish").click()
    page.goto(asgi_server.url + idea.get_absolute_url())
    expect(page.get_by_test_id("idea-status")).to_have_text("Gathering support")
    logout(page)

    # Two customers support it without a page reload; the second reaches the first milestone.
    for number, fan in enumerate(fans, start=1):
        login(page, asgi_server, fan.email)
        page.goto(asgi_server.url + idea.get_absolute_url())
        page.evaluate("window.__notReloaded = true")
        page.select_option("#support-importance", "must")
        page.fill("#support-quantity", "10")
        page.get_by_test_id("support-button").click()
        expect(page.get_by_test_id("supporters")).to_have_text(str(number))
        expect(page.get_by_test_id("support-button")).to_have_text("Withdraw my support")
        expect(page.get_by_test_id("follow-button")).to_have_text("Unfollow")
        assert page.evaluate("window.__notReloaded") is True
        shot(page, f"ideas-03-supported-{number}")
        logout(page)

    idea.refresh_from_db()
    assert idea.supporters_count == 2 == Support.objects.filter(idea=idea).count()
    assert idea.milestones_reached == 1

    # The creator hears about the milestone.
    login(page, asgi_server, creator.email)
    page.goto(asgi_server.url + "/ideas/notifications/")
    expect(page.locator(".notification-list")).to_contain_text("reached 2 supporters")
    expect(page.get_by_test_id("unread-count")).to_be_visible()
    shot(page, "ideas-04-notifications")
    assert console_errors == []


def test_the_campaign_page_in_chinese(page: Page, asgi_server: Any) -> None:
    campaign = campaign_create(title="Ideas", slug="ideas-zh")
    IdeaFactory(campaign=campaign, title="Pallet tracker")
    page.goto(asgi_server.url + campaign.url)
    page.select_option("#lang-select", "zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_test_id("idea-card")).to_contain_text("Pallet tracker")
    shot(page, "ideas-05-campaign-zh-hans")
