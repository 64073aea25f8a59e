"""Two browsers: a customer comments on another's idea, and the creator's badge and toast update in both of
her open tabs without a reload; a tab that was offline catches up; marking read in one tab clears the others."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from cocreate.roles import Role
from ideas.models import Notification
from tests.e2e.conftest import login, shot
from tests.factories import UserFactory
from tests.ideas.factories import IdeaFactory, campaign_create

pytestmark = pytest.mark.e2e


# Toasts go away after a few seconds; the test records every one added, so that a slow step cannot miss one.
RECORD_TOASTS = """() => {
  window.toastsSeen = [];
  new MutationObserver(function (changes) {
    changes.forEach(function (change) {
      change.addedNodes.forEach(function (node) { window.toastsSeen.push(node.querySelector("a").textContent); });
    });
  }).observe(document.querySelector("[data-notifications-socket]"), {childList: true});
}"""


def listening(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("[data-notifications-socket]")).to_have_attribute("data-state", "online", timeout=10000)
    page.evaluate(RECORD_TOASTS)


def toasts_seen(page: Page) -> list[str]:
    return list(page.evaluate("window.toastsSeen"))


def comment(page: Page, body: str) -> None:
    page.fill("#comment-body", body)
    page.get_by_test_id("comment-form").get_by_role("button").click()
    expect(page.locator(".comment-body").last).to_contain_text(body)


def test_the_creator_sees_a_comment_arrive_live_in_every_tab(browser: Browser, asgi_server: Any) -> None:
    campaign = campaign_create(title="Warehouse ideas", slug="warehouse")
    creator = UserFactory(display_name="Ada Creator", roles=[Role.CUSTOMER])
    fan = UserFactory(display_name="Ben Fan", roles=[Role.CUSTOMER])
    idea = IdeaFactory(campaign=campaign, creator=creator, title="Solar forklift charger")
    idea_url = f"{asgi_server.url}/ideas/{idea.pk}/"
    errors: list[str] = []

    ada = browser.new_context(viewport={"width": 1280, "height": 900})
    login(tab1 := ada.new_page(), asgi_server, creator.email)
    tab2 = ada.new_page()
    for tab in (tab1, tab2):
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
    listening(tab1, idea_url)
    listening(tab2, asgi_server.url + campaign.url)
    for tab in (tab1, tab2):
        expect(tab.get_by_test_id("notifications-badge")).to_be_hidden()

    ben = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    ben.on("pageerror", lambda exc: errors.append(str(exc)))
    login(ben, asgi_server, fan.email)
    ben.goto(idea_url)
    comment(ben, "Count me in for two chargers")

    announced = "Ben Fan commented on “Solar forklift charger”."
    expect(tab1.get_by_test_id("notifications-badge")).to_have_text("1", timeout=5000)
    toast = tab1.get_by_test_id("notification-toast")
    expect(toast).to_contain_text(announced)
    expect(toast.get_by_role("link")).to_have_attribute("href", f"/ideas/{idea.pk}/")
    expect(tab1.locator("[role=status][aria-live=polite]").get_by_test_id("notification-toast")).to_have_count(1)
    shot(tab1, "ideas-notifications-01-live-toast")
    expect(tab2.get_by_test_id("notifications-badge")).to_have_text("1", timeout=5000)
    assert toasts_seen(tab2) == [announced]

    # One tab loses its connection; the comment made meanwhile is replayed when it comes back.
    ada.set_offline(True)
    tab1.evaluate("window.cocreateNotifications.socket().close()")
    expect(tab1.locator("[data-notifications-socket]")).to_have_attribute("data-state", "offline", timeout=5000)
    comment(ben, "And a third one for the night shift")
    assert Notification.objects.filter(user=creator).count() == 2
    ada.set_offline(False)
    expect(tab1.get_by_test_id("notifications-badge")).to_have_text("2", timeout=20000)
    expect(tab2.get_by_test_id("notifications-badge")).to_have_text("2", timeout=20000)
    for tab in (tab1, tab2):
        # The badge may come first (a heartbeat answers the unread count; the replay with the toast follows it).
        tab.wait_for_function("window.toastsSeen.length >= 2", timeout=10000)
        assert toasts_seen(tab) == [announced, announced], "each announced once"

    # Marking them read in one tab clears the badge of the other, which is not reloaded.
    tab2.goto(f"{asgi_server.url}/ideas/notifications/")
    tab2.locator("form:has(input[name=action][value=read]) button").click()
    expect(tab2.get_by_test_id("notifications-badge")).to_be_hidden()
    expect(tab1.get_by_test_id("notifications-badge")).to_be_hidden(timeout=5000)
    assert tab1.evaluate("performance.getEntriesByType('navigation').length") == 1
    shot(tab1, "ideas-notifications-02-read-elsewhere")
    assert errors == []
