"""Two browsers in one live room: one sends, the other sees it live; one goes offline and catches up.

The room is served by uvicorn running the real ASGI application (origin check, session cookie auth, the live
room consumer) in a thread of the test process (``asgi_server`` in ``conftest.py``).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from boards import services as board_services
from boards.demo import seed_demo
from boards.models import Poll, PollVote, Question, Session
from boards.selectors import session_access
from cocreate.demo import seed_core
from tests.e2e.conftest import in_thread, login, shot

pytestmark = pytest.mark.e2e


def test_two_members_chat_live_and_the_one_who_was_offline_catches_up(browser: Browser, asgi_server: Any) -> None:
    people = seed_core()
    seed_demo(people=people)
    live = Session.objects.get(state=Session.State.LIVE)
    room = f"{asgi_server.url}/boards/sessions/{live.pk}/live/"
    errors: list[str] = []

    pages: list[Page] = []
    for email in (people.board_member.email, people.board_member2.email):
        page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        login(page, asgi_server, email)
        page.goto(room)
        expect(page.locator("#conn-status")).to_have_attribute("data-state", "online", timeout=10000)
        pages.append(page)
    li_na, james = pages

    expect(li_na.get_by_test_id("presence")).to_contain_text(people.board_member2.public_name)
    li_na.fill("#chat-input", "Roadmap looks right to me")
    li_na.get_by_test_id("chat-send").click()
    expect(james.get_by_test_id("chat-log")).to_contain_text("Roadmap looks right to me", timeout=5000)
    shot(james, "boards-01-live-message-arrives")

    james.context.set_offline(True)
    james.evaluate("window.cocreateLive.socket().close()")
    expect(james.locator("#conn-status")).to_have_attribute("data-state", "offline", timeout=5000)
    for i in range(3):
        li_na.fill("#chat-input", f"Missed message {i}")
        li_na.get_by_test_id("chat-send").click()
    expect(li_na.get_by_test_id("chat-log")).to_contain_text("Missed message 2", timeout=5000)
    james.context.set_offline(False)
    expect(james.get_by_test_id("chat-log")).to_contain_text("Missed message 2", timeout=20000)
    bodies = james.locator(".chat-body").all_inner_texts()
    assert bodies == ["Roadmap looks right to me", "Missed message 0", "Missed message 1", "Missed message 2"]
    shot(james, "boards-02-caught-up-after-offline")
    assert errors == []


# Keeps every live room socket the page makes (not the notifications socket every page has), so that a test can
# see how many are open at once.
COUNT_ROOM_SOCKETS = """
(() => {
  const Original = window.WebSocket;
  window.socketsMade = [];
  window.WebSocket = function (url, protocols) {
    const ws = protocols === undefined ? new Original(url) : new Original(url, protocols);
    if (String(url).includes("/ws/sessions/")) { window.socketsMade.push(ws); }
    return ws;
  };
  window.WebSocket.prototype = Original.prototype;
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})();
"""


def test_coming_back_online_while_a_reconnect_is_waiting_opens_one_socket_and_writes_to_none_still_connecting(
    browser: Browser, asgi_server: Any
) -> None:
    """The socket drops, a reconnect is scheduled, and the browser reports "online" before it fires. The page
    reconnects at once and the scheduled reconnect is cancelled: one new socket, nothing sent on a socket that is
    still connecting.

    The scheduled reconnect used to fire as well and open a second socket; the first one's "open" handler then
    wrote to the second, still connecting ("Still in CONNECTING state"), and both sockets stayed open.
    """
    people = seed_core()
    seed_demo(people=people)
    live = Session.objects.get(state=Session.State.LIVE)
    errors: list[str] = []
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.add_init_script(COUNT_ROOM_SOCKETS)
    login(page, asgi_server, people.board_member.email)
    page.goto(f"{asgi_server.url}/boards/sessions/{live.pk}/live/")
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "online", timeout=10000)
    assert page.evaluate("window.socketsMade.length") == 1

    page.evaluate("window.cocreateLive.socket().close()")
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "offline", timeout=5000)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "online", timeout=10000)
    page.wait_for_timeout(1500)  # past the longest first backoff (0.5 s): the scheduled reconnect would have fired

    states = page.evaluate("window.socketsMade.map((ws) => ws.readyState)")
    assert states == [3, 1], "the dropped socket closed and exactly one new one open"
    page.fill("#chat-input", "Still here after the drop")
    page.get_by_test_id("chat-send").click()
    expect(page.get_by_test_id("chat-log")).to_contain_text("Still here after the drop", timeout=5000)
    assert page.evaluate("Object.keys(window.cocreateLive.pending).length") == 0
    assert errors == []


def test_a_resync_loads_the_missed_log_before_the_live_events_that_arrive_meanwhile(
    browser: Browser, asgi_server: Any, settings: Any
) -> None:
    """More missed events than a resume replays: the browser pages through the log over REST while live events
    keep arriving, and shows every event once, none skipped.

    A live event applied before the log's later pages would move the browser's last id past them, and the
    next page (and the closing ``resume``) would start after it.
    """
    settings.BOARDS_RESUME_MAX_EVENTS = 3
    people = seed_core()
    seed_demo(people=people)
    live = Session.objects.get(state=Session.State.LIVE)
    author = people.board_member
    access = session_access(user=author, session_id=live.pk)
    errors: list[str] = []

    def say(body: str) -> None:
        in_thread(lambda: board_services.chat_send(access=access, user=author, body=body))

    james = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    james.on("pageerror", lambda exc: errors.append(str(exc)))
    login(james, asgi_server, people.board_member2.email)
    james.goto(f"{asgi_server.url}/boards/sessions/{live.pk}/live/")
    expect(james.locator("#conn-status")).to_have_attribute("data-state", "online", timeout=10000)
    say("Before the outage")
    expect(james.get_by_test_id("chat-log")).to_contain_text("Before the outage", timeout=5000)

    james.context.set_offline(True)
    james.evaluate("window.cocreateLive.socket().close()")
    expect(james.locator("#conn-status")).to_have_attribute("data-state", "offline", timeout=5000)
    missed = [f"Missed {i}" for i in range(8)]  # more than the 3 a resume replays: the server answers resync
    for body in missed:
        say(body)

    pages: list[str] = []

    def hold_the_first_page(route: Route) -> None:
        """The first page of the resync is answered only after a live event has reached the browser."""
        pages.append(route.request.url)
        if len(pages) == 1:
            say("Live while loading")
            time.sleep(1.5)  # the live event reaches the browser while its REST request is still open
        route.continue_()

    james.route("**/api/sessions/*/events/**", hold_the_first_page)
    james.context.set_offline(False)
    expect(james.locator("#conn-status")).to_have_attribute("data-state", "online", timeout=20000)
    expected = ["Before the outage", *missed, "Live while loading"]
    expect(james.locator(".chat-body")).to_have_text(expected, timeout=5000)
    assert len(pages) >= 3  # 8 missed events in pages of 3
    ids = james.evaluate("Object.keys(window.cocreateLive.state.seen).map(Number)")
    assert len(ids) == len(set(ids))
    assert errors == []


def _live_room_with_a_poll() -> tuple[Any, Session, Poll]:
    """The demo data, its live session, and a poll "Which launch quarter?" (Q1, Q2) the facilitator opened."""
    people = seed_core()
    seed_demo(people=people)
    live = Session.objects.get(state=Session.State.LIVE)
    facilitator = people.product_manager
    in_thread(
        lambda: board_services.poll_open(
            access=session_access(user=facilitator, session_id=live.pk),
            user=facilitator,
            question="Which launch quarter?",
            options=["Q1", "Q2"],
        )
    )
    return people, live, Poll.objects.get(session=live)


def test_a_ticked_poll_option_survives_another_members_vote_arriving_before_it_is_sent(
    browser: Browser, asgi_server: Any
) -> None:
    """Every event redraws the poll list: an option ticked but not yet sent stays ticked, so "Vote" sends it.

    The redraw used to clear it, and "Vote" then sent nothing: the member's vote was silently never cast (the
    board-pair journey's late poll result: the second voter's vote never reached the server).
    """
    people, live, poll_row = _live_room_with_a_poll()
    first, second = poll_row.options.all()
    other = people.board_member
    errors: list[str] = []

    james = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    james.on("pageerror", lambda exc: errors.append(str(exc)))
    login(james, asgi_server, people.board_member2.email)
    james.goto(f"{asgi_server.url}/boards/sessions/{live.pk}/live/")
    expect(james.locator("#conn-status")).to_have_attribute("data-state", "online", timeout=10000)
    poll = james.locator("#poll-list .poll").filter(has_text="Which launch quarter?")
    poll.locator("input[type=radio]").nth(1).check()

    # Another member's vote arrives (and redraws the poll) before James presses "Vote".
    in_thread(
        lambda: board_services.poll_vote(
            access=session_access(user=other, session_id=live.pk), user=other, poll=poll_row.pk, options=[first.pk]
        )
    )
    options = poll.locator(".poll-option")
    expect(options.nth(0)).to_contain_text("1 (100%)", timeout=5000)
    expect(poll.locator("input[type=radio]").nth(1)).to_be_checked()
    poll.locator("button[type=submit]").click()
    expect(options.nth(0)).to_contain_text("1 (50%)", timeout=5000)
    expect(options.nth(1)).to_contain_text("1 (50%)", timeout=5000)
    assert PollVote.objects.get(poll=poll_row, user=people.board_member2).option_id == second.pk
    assert errors == []


def _open_room(browser: Browser, asgi_server: Any, email: str, session_id: int, errors: list[str]) -> Page:
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    login(page, asgi_server, email)
    page.goto(f"{asgi_server.url}/boards/sessions/{session_id}/live/")
    expect(page.locator("#conn-status")).to_have_attribute("data-state", "online", timeout=10000)
    return page


# A mark on the focused node itself (not an attribute, which a redraw may rewrite): still there only if the
# very node that had the focus has it again.
MARK_FOCUSED = "document.activeElement.stillTheSameNode = true"
FOCUSED_IS_MARKED = "document.activeElement.stillTheSameNode === true"


def test_a_keyboard_user_keeps_the_focus_on_a_poll_option_and_an_upvote_while_others_redraw_the_room(
    browser: Browser, asgi_server: Any
) -> None:
    """Every event redraws the room. A member working the room from the keyboard stays where they are: another
    member's vote and message redraw the poll and the questions, and the option (ticked with the arrow keys) or the
    upvote button they were on still has the focus, so Enter votes and the next key goes where they expect.

    The redraw used to rebuild every list, and the focus fell back to the page's start.
    """
    people, live, poll_row = _live_room_with_a_poll()
    first, second = poll_row.options.all()
    li_na = people.board_member
    li_na_access = session_access(user=li_na, session_id=live.pk)
    for body in ("Is the API part of the pilot?", "Who owns the rollout?"):
        in_thread(lambda body=body: board_services.question_ask(access=li_na_access, user=li_na, body=body))
    errors: list[str] = []
    james = _open_room(browser, asgi_server, people.board_member2.email, live.pk, errors)

    poll = james.locator("#poll-list .poll").filter(has_text="Which launch quarter?")
    radios = poll.locator("input[type=radio]")
    radios.nth(0).focus()
    james.keyboard.press("ArrowDown")  # moves to the second option and ticks it
    expect(radios.nth(1)).to_be_focused()
    expect(radios.nth(1)).to_be_checked()
    james.evaluate(MARK_FOCUSED)

    in_thread(lambda: board_services.poll_vote(access=li_na_access, user=li_na, poll=poll_row.pk, options=[first.pk]))
    in_thread(lambda: board_services.chat_send(access=li_na_access, user=li_na, body="Q1 gives us the trade fair"))
    expect(poll.locator(".poll-option").nth(0)).to_contain_text("1 (100%)", timeout=5000)
    expect(james.get_by_test_id("chat-log")).to_contain_text("Q1 gives us the trade fair", timeout=5000)
    expect(radios.nth(1)).to_be_focused()
    expect(radios.nth(1)).to_be_checked()
    assert james.evaluate(FOCUSED_IS_MARKED)

    james.keyboard.press("Enter")  # submits the poll's form: the vote is cast from where the focus stayed
    expect(poll.locator(".poll-option").nth(1)).to_contain_text("1 (50%)", timeout=5000)
    assert PollVote.objects.get(poll=poll_row, user=people.board_member2).option_id == second.pk

    # The upvote: pressing it moves the question above the other one (most upvoted first), and another member's
    # message redraws the list again; the focus stays on that question's upvote button.
    later = james.locator("#question-list .question").filter(has_text="Who owns the rollout?")
    later.locator(".upvote").focus()
    james.keyboard.press("Enter")
    expect(james.locator("#question-list .question").first).to_contain_text("Who owns the rollout?", timeout=5000)
    expect(later.locator(".upvote strong")).to_have_text("1", timeout=5000)
    in_thread(lambda: board_services.chat_send(access=li_na_access, user=li_na, body="Thanks, noted"))
    expect(james.get_by_test_id("chat-log")).to_contain_text("Thanks, noted", timeout=5000)
    expect(later.locator(".upvote")).to_be_focused()
    assert errors == []


def test_a_half_typed_question_keeps_its_text_and_caret_while_others_redraw_the_room(
    browser: Browser, asgi_server: Any
) -> None:
    """A member halfway through typing a question, caret moved back into the text, sees other members' questions
    and messages arrive; the focus, the text and the caret stay, and what they type next lands where the caret was."""
    people = seed_core()
    seed_demo(people=people)
    live = Session.objects.get(state=Session.State.LIVE)
    li_na = people.board_member
    li_na_access = session_access(user=li_na, session_id=live.pk)
    errors: list[str] = []
    james = _open_room(browser, asgi_server, people.board_member2.email, live.pk, errors)

    box = james.locator("#question-input")
    box.focus()
    james.keyboard.type("Could we pilot in Q3")
    for _ in range(6):
        james.keyboard.press("ArrowLeft")  # the caret before " in Q3"
    caret = james.evaluate("[document.activeElement.selectionStart, document.activeElement.selectionEnd]")
    assert caret == [14, 14]
    james.evaluate(MARK_FOCUSED)

    in_thread(lambda: board_services.question_ask(access=li_na_access, user=li_na, body="What about support hours?"))
    in_thread(lambda: board_services.chat_send(access=li_na_access, user=li_na, body="Let us keep to time"))
    expect(james.locator("#question-list")).to_contain_text("What about support hours?", timeout=5000)
    expect(james.get_by_test_id("chat-log")).to_contain_text("Let us keep to time", timeout=5000)
    expect(box).to_be_focused()
    expect(box).to_have_value("Could we pilot in Q3")
    assert james.evaluate(FOCUSED_IS_MARKED)
    assert james.evaluate("[document.activeElement.selectionStart, document.activeElement.selectionEnd]") == caret

    james.keyboard.type(" this")
    expect(box).to_have_value("Could we pilot this in Q3")
    james.locator("#question-form button[type=submit]").click()
    expect(james.locator("#question-list")).to_contain_text("Could we pilot this in Q3", timeout=5000)
    assert Question.objects.filter(session=live, author=people.board_member2, body="Could we pilot this in Q3").exists()
    assert errors == []


def test_a_facilitators_focus_stays_in_the_question_list_when_the_button_they_pressed_goes_away(
    browser: Browser, asgi_server: Any
) -> None:
    """The facilitator approves a question from the keyboard: "Approve" is gone after the redraw, so the focus
    moves to another control of the same question; hiding the question removes it all, so the focus goes to the
    question list. Before, it fell back to the start of the page both times."""
    people = seed_core()
    seed_demo(people=people)
    live = Session.objects.get(state=Session.State.LIVE)
    live.moderate_questions = True
    live.save(update_fields=["moderate_questions"])
    errors: list[str] = []
    host = _open_room(browser, asgi_server, people.product_manager.email, live.pk, errors)
    in_thread(
        lambda: board_services.question_ask(
            access=session_access(user=people.board_member, session_id=live.pk),
            user=people.board_member,
            body="Can the pilot start in March?",
        )
    )
    question = Question.objects.get(session=live, body="Can the pilot start in March?")
    approve = host.locator(f'[data-focus="question-{question.pk}-approve"]')
    expect(approve).to_be_visible(timeout=5000)
    approve.focus()
    host.keyboard.press("Enter")
    expect(host.locator(f'[data-focus="question-{question.pk}-approve"]')).to_have_count(0, timeout=5000)
    assert host.evaluate("document.activeElement.closest('[data-key]')?.dataset.key") == f"question-{question.pk}"

    host.locator(f'[data-focus="question-{question.pk}-hide"]').focus()
    host.keyboard.press("Enter")
    expect(host.locator(f'[data-key="question-{question.pk}"]')).to_have_count(0, timeout=5000)
    assert host.evaluate("document.activeElement.id") == "question-list"
    assert errors == []


def test_chat_messages_refused_as_too_frequent_are_sent_again_and_arrive_once(
    browser: Browser, asgi_server: Any, settings: Any
) -> None:
    """A member who types faster than the rate limit allows sees the warning, and every message still arrives,
    once: the refused ones are kept and sent again a few seconds later, not only at the next reconnect."""
    settings.BOARDS_WS_RATE_LIMIT = (2, 3)  # six messages at once: at least two refused, whatever the window
    people = seed_core()
    seed_demo(people=people)
    live = Session.objects.get(state=Session.State.LIVE)
    errors: list[str] = []
    li_na = _open_room(browser, asgi_server, people.board_member.email, live.pk, errors)
    james = _open_room(browser, asgi_server, people.board_member2.email, live.pk, errors)

    bodies = [f"Point number {n}" for n in range(1, 7)]
    # Typed and sent in one go (in the page), so that a slow machine cannot spread them over several windows.
    li_na.evaluate(
        """(bodies) => {
          const input = document.querySelector("#chat-input");
          for (const body of bodies) { input.value = body; document.querySelector("[data-testid=chat-send]").click(); }
        }""",
        bodies,
    )
    expect(li_na.locator("#toast")).to_be_visible(timeout=5000)
    log = james.get_by_test_id("chat-log")
    for body in bodies:
        expect(log).to_contain_text(body, timeout=30000)
    text = log.inner_text()
    assert [text.count(body) for body in bodies] == [1] * 6
    assert errors == []
