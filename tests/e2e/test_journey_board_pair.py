"""Two board members in two browsers, in English and in simplified Chinese: a newly added member accepts the
charter on a phone, opens the pre-read and acknowledges it; both join the live session; she asks a question,
the other member upvotes it and both see the count; the facilitator opens a poll, both vote and both see the
results arrive live."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from boards import services as board_services
from boards.demo import seed_demo
from boards.models import BoardMembership, PollVote, PreReadAcknowledgement, Question, Session
from boards.selectors import session_access
from cocreate.demo import seed_core
from cocreate.roles import Role
from tests.e2e.conftest import LANGUAGES, expect_language, expect_no_horizontal_scroll, in_thread, login, new_page, shot
from tests.factories import UserFactory

pytestmark = pytest.mark.e2e


def join_room(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "online", timeout=10000)


@pytest.mark.parametrize("language", LANGUAGES)
def test_two_board_members_read_ask_upvote_and_vote_live(browser: Browser, asgi_server: Any, language: str) -> None:
    people = seed_core()
    seed_demo(people=people)
    live = Session.objects.select_related("board").get(state=Session.State.LIVE)
    board = live.board
    newcomer = UserFactory(display_name="Amara Okafor", roles=[Role.CUSTOMER, Role.BOARD_MEMBER])
    board_services.board_member_add(board=board, user=newcomer, by=people.product_manager)
    colleague = people.board_member2
    room = f"{asgi_server.url}/boards/sessions/{live.pk}/live/"
    errors: list[str] = []
    step = f"journey-board-{language}"

    # Member A, on a phone: the charter first, then the pre-read.
    amara = new_page(browser, asgi_server.url, language, phone=True)
    amara.on("pageerror", lambda exc: errors.append(str(exc)))
    login(amara, asgi_server, newcomer.email)
    amara.get_by_role("navigation").first.locator("a[href='/boards/']").tap()  # the phone's navigation works
    amara.wait_for_url(f"{asgi_server.url}/boards/")
    expect_language(amara, language)
    expect_no_horizontal_scroll(amara)
    shot(amara, f"{step}-01-boards-phone")
    amara.goto(f"{asgi_server.url}/boards/{board.pk}/")
    expect(amara.get_by_test_id("accept-charter")).to_be_visible()
    expect_no_horizontal_scroll(amara)
    shot(amara, f"{step}-02-charter-phone")
    amara.locator("input[name=agree]").check()
    amara.get_by_test_id("accept-charter").click()
    expect(amara.get_by_test_id("accept-charter")).to_have_count(0)
    assert BoardMembership.objects.get(board=board, user=newcomer).charter_current

    amara.goto(f"{asgi_server.url}/boards/sessions/{live.pk}/")
    expect_no_horizontal_scroll(amara)
    with amara.expect_download() as download:
        amara.locator(".pre-read a").first.click()
    assert download.value.suggested_filename.endswith(".pdf")
    amara.get_by_test_id("mark-read").click()
    expect(amara.locator(".pre-read .status-live")).to_be_visible()
    expect(amara.get_by_test_id("mark-read")).to_have_count(0)
    shot(amara, f"{step}-03-pre-read-acknowledged-phone")
    assert PreReadAcknowledgement.objects.filter(pre_read__session=live, user=newcomer).count() == 1

    # Both in the live room: A on her phone, B at a desk.
    amara.get_by_test_id("join-live").click()
    expect(amara.locator("#conn-status")).to_have_attribute("data-state", "online", timeout=10000)
    james = new_page(browser, asgi_server.url, language)
    james.on("pageerror", lambda exc: errors.append(str(exc)))
    login(james, asgi_server, colleague.email)
    join_room(james, room)
    expect_language(james, language)
    expect(amara.get_by_test_id("presence")).to_contain_text(colleague.public_name)
    expect(james.get_by_test_id("presence")).to_contain_text(newcomer.public_name)
    expect_no_horizontal_scroll(amara)

    # A asks; B sees the question and upvotes it; the count changes in both browsers.
    amara.fill("#question-input", "Will the 2027 roadmap include the pallet tracker?")
    amara.locator("#question-form button[type=submit]").click()
    question = james.locator("#question-list .question").filter(has_text="pallet tracker")
    expect(question).to_be_visible(timeout=5000)
    expect(question.locator(".upvote strong")).to_have_text("0")
    question.locator(".upvote").click()
    expect(question.locator(".upvote strong")).to_have_text("1", timeout=5000)
    mine = amara.locator("#question-list .question").filter(has_text="pallet tracker")
    expect(mine.locator(".upvote strong")).to_have_text("1", timeout=5000)
    shot(james, f"{step}-04-question-upvoted")
    shot(amara, f"{step}-05-question-upvoted-phone")
    assert Question.objects.get(session=live).upvotes.count() == 1

    # The facilitator opens a poll (through the service layer, as the room's consumer would); both vote.
    facilitator = people.product_manager
    access = session_access(user=facilitator, session_id=live.pk)
    in_thread(
        lambda: board_services.poll_open(
            access=access, user=facilitator, question="Which launch quarter?", options=["Q1", "Q2"]
        )
    )
    for page, choice in ((amara, 0), (james, 1)):
        poll = page.locator("#poll-list .poll").filter(has_text="Which launch quarter?")
        expect(poll).to_be_visible(timeout=5000)
        poll.locator("input[type=radio]").nth(choice).check()
        poll.locator("button[type=submit]").click()
    # Live: the second vote's result reaches both browsers at once (no heartbeat needed).
    for page in (amara, james):
        options = page.locator("#poll-list .poll .poll-option")
        expect(options.nth(0)).to_contain_text("1 (50%)", timeout=5_000)
        expect(options.nth(1)).to_contain_text("1 (50%)", timeout=5_000)
        expect(page.locator("#poll-list .poll > .meta")).to_contain_text("2")
    shot(james, f"{step}-06-poll-results")
    shot(amara, f"{step}-07-poll-results-phone")
    assert PollVote.objects.filter(poll__session=live).count() == 2
    expect_no_horizontal_scroll(amara)
    assert errors == []
