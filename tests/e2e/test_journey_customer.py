"""A customer's journey on a phone, in English and in simplified Chinese: sign up, verify the e-mail, submit an idea, support
another one, see the notification when a product manager answers, and download their data."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from playwright.sync_api import Browser, expect

from cocreate.roles import Role
from ideas import services as idea_services
from ideas.models import Idea
from tests.e2e.conftest import LANGUAGES, PHONE, expect_language, expect_no_horizontal_scroll, shot
from tests.factories import UserFactory
from tests.ideas.factories import IdeaFactory, campaign_create

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_customer_signs_up_verifies_submits_supports_and_is_notified(
    browser: Browser, asgi_server: Any, language: str
) -> None:
    campaign = campaign_create(title="Warehouse ideas", slug=f"warehouse-journey-{language}", moderation_required=False)
    other = IdeaFactory(campaign=campaign, title="Pallet tracker")
    pm = UserFactory(roles=[Role.PRODUCT_MANAGER], is_staff=True)
    page = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    step = f"journey-customer-{language}"

    page.goto(asgi_server.url + "/")
    if language != "en":
        page.select_option("#lang-select", language)
    expect_language(page, language)
    expect_no_horizontal_scroll(page)
    shot(page, f"{step}-01-home")
    page.get_by_role("navigation").first.locator("a[href='/ideas/']").tap()  # the phone's navigation works
    page.wait_for_url(asgi_server.url + campaign.url)  # the ideas index opens the only campaign
    expect_no_horizontal_scroll(page)
    shot(page, f"{step}-01b-campaign")

    page.goto(asgi_server.url + "/accounts/signup/")
    page.fill("input[name=email]", "wei@customer.example")
    page.fill("input[name=password1]", "a-long-pass-phrase-2026")
    if page.locator("input[name=password2]").count():
        page.fill("input[name=password2]", "a-long-pass-phrase-2026")
    expect_no_horizontal_scroll(page)
    shot(page, f"{step}-02-signup")
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    shot(page, f"{step}-03-verify-sent")
    links = [re.search(r"https?://\S+/accounts/confirm-email/\S+", m.body) for m in mail.outbox]
    link = next(match.group(0) for match in links if match)
    page.goto(link)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_load_state()
    shot(page, f"{step}-04-verified")

    from cocreate.models import User
    from cocreate.services import role_grant

    user = User.objects.get(email="wei@customer.example")
    assert user.preferred_language == language  # notifications and e-mails will be written in it
    if not user.groups.filter(name=Role.CUSTOMER.value).exists():
        role_grant(user=user, role=Role.CUSTOMER)
    if "/accounts/login/" in page.url:
        page.fill("input[name=login]", "wei@customer.example")
        page.fill("input[name=password]", "a-long-pass-phrase-2026")
        page.locator("form button[type=submit]").last.click()
        page.wait_for_load_state()

    page.goto(f"{asgi_server.url}/ideas/submit/{campaign.pk}/")
    page.fill("#id_title", "仓库屋顶太阳能板")
    page.fill("#id_summary", "用屋顶的太阳能给叉车充电。")
    page.fill("#id_description", "屋顶空着。阳光充足。")
    page.check("#id_terms_accepted")
    expect_no_horizontal_scroll(page)
    shot(page, f"{step}-05-submit")
    page.locator("form button[type=submit]").last.click()
    expect(page.get_by_test_id("idea-status")).to_be_visible()
    shot(page, f"{step}-06-submitted")
    mine = Idea.objects.get(title="仓库屋顶太阳能板")

    page.goto(asgi_server.url + other.get_absolute_url())
    page.get_by_test_id("support-button").click()
    expect(page.get_by_test_id("supporters")).to_have_text("1")
    expect_language(page, language)
    expect_no_horizontal_scroll(page)
    shot(page, f"{step}-07-supported")

    if mine.status == Idea.Status.PENDING:
        mine = idea_services.idea_moderate(idea=mine, moderator=pm, decision="publish")
    idea_services.comment_add(idea=mine, author=pm, body="<p>谢谢。我们会评估。</p>", kind="official")
    page.goto(asgi_server.url + "/ideas/notifications/")
    expect(page.locator(".notification-list")).to_be_visible()
    if language == "zh-hans":
        expect(page.locator(".notification-list")).to_contain_text("官方回复")
    expect_no_horizontal_scroll(page)
    shot(page, f"{step}-08-notified")

    page.goto(asgi_server.url + "/accounts/privacy/")
    shot(page, f"{step}-09-privacy")
    with page.expect_download() as download:
        page.locator("a[href$='export.json']").click()
    assert download.value.suggested_filename.endswith(".json")
    assert errors == []
