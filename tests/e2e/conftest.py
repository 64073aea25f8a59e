"""Browser tests: Playwright driving Debian's Chromium against the real ASGI application served by uvicorn.

Run apart from the rest (Playwright's event loop and pytest-asyncio do not share a process):
``DJANGO_ALLOW_ASYNC_UNSAFE=true python -m pytest -m e2e tests/e2e``. Screenshots of each step go to
``artifacts/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect

from cocreate.demo import DEMO_PASSWORD

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"))


class AsgiServer:
    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        from cocreate.asgi import application

        config = uvicorn.Config(application, host="127.0.0.1", port=self.port, lifespan="off", log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> AsgiServer:
        _fresh_channel_layer()
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
        _fresh_channel_layer()


def _fresh_channel_layer() -> None:
    """Each server runs on a new event loop, like a new process: give it a fresh channel layer and live-room hub.

    A layer used before from another loop (an earlier server, or sync code of earlier tests) keeps Redis state
    tied to that loop (channels-redis refuses a second loop while a receive of the first is still counted).
    """
    from channels.layers import channel_layers

    from boards import fanout

    channel_layers.backends.clear()
    fanout._hub = None


def in_thread(action: Any) -> None:
    """Run a service whose on-commit fan-out uses async_to_sync: not on Playwright's event-loop thread."""
    worker = threading.Thread(target=action)
    worker.start()
    worker.join()


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix: None) -> None:
    """On SQLite the browser tests use a database file, as ``make run`` does. The ASGI server answers from its own
    thread, and SQLite's shared in-memory test database locks whole tables between connections at once instead
    of waiting (seen: the full-text index failing with "vtable constructor failed" while the test wrote)."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        database.setdefault("TEST", {})["NAME"] = str(settings.VAR_DIR / "test-e2e.sqlite3")


@pytest.fixture
def asgi_server(transactional_db: None) -> Iterator[AsgiServer]:
    """The platform as production serves it, pages and WebSockets on one server (Django's ``asgi_server`` speaks
    only HTTP, so every page's notification socket would fail there)."""
    with AsgiServer() as server:
        yield server


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(autouse=True)
def _close_browser_contexts(request: pytest.FixtureRequest, transactional_db: None) -> Iterator[None]:
    """Close every context a test opened on the shared browser, so no page of an earlier test keeps reconnecting
    to a server that has stopped (or worse, to the next test's server on a reused port). It depends on the
    database so that it is torn down first: no open page may send a request while the database is flushed."""
    yield
    if "browser" in request.fixturenames:
        browser: Browser = request.getfixturevalue("browser")
        for context in list(browser.contexts):
            context.close()


@pytest.fixture(autouse=True)
def _wagtail_tree(transactional_db: None) -> None:
    """asgi_server tests flush the database between tests; put the site tree and roles back each time."""
    from cocreate.services import roles_sync, site_ensure

    roles_sync()
    site_ensure()


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot named after the test step."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")  # else the sticky header is drawn where the page was scrolled to
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page: Page, asgi_server: Any, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{asgi_server.url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{asgi_server.url}/accounts/profile/")


# Every journey runs in English and in simplified Chinese. Elements are found by role, label, test id or URL,
# never by English text, so the same steps drive both; ``expect_language`` proves the page really is translated.
LANGUAGES = ["en", "zh-hans"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# A stable, long-translated word of the main navigation ("Ideas") in each language.
NAV_IDEAS = {"en": "Ideas", "zh-hans": "创意"}


def new_page(browser: Browser, base_url: str, language: str, *, phone: bool = False) -> Page:
    """A fresh browser context (its own cookies) that asks for ``language`` through Django's language cookie."""
    viewport = PHONE if phone else DESKTOP
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone)
    context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
    return context.new_page()


def expect_language(page: Page, language: str) -> None:
    """The page is served in ``language``: the ``lang`` attribute and a translated navigation word."""
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.get_by_role("navigation").first).to_contain_text(NAV_IDEAS[language])


def expect_no_horizontal_scroll(page: Page) -> None:
    """Nothing sticks out sideways: the document is no wider than the viewport."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    if overflow > 1:
        widest = page.evaluate(WIDEST)
        raise AssertionError(f"{page.url} scrolls sideways by {overflow}px; widest elements: {widest}")


WIDEST = """() => {
  const width = document.documentElement.clientWidth;
  return Array.from(document.querySelectorAll("body *"))
    .filter(e => e.getBoundingClientRect().right > width + 1)
    .slice(-5)
    .map(e => `${e.tagName.toLowerCase()}#${e.id}.${e.className} right=${Math.round(e.getBoundingClientRect().right)}`);
}"""
