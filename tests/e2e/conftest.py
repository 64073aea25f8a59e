"""Browser tests: Playwright driving Debian's Chromium against Django's live server.

Run apart from the rest (Playwright's event loop and pytest-asyncio do not share a process):
``DJANGO_ALLOW_ASYNC_UNSAFE=true python -m pytest -m e2e tests/e2e``. Screenshots of each step go to
``artifacts/screenshots/`` for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

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


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(autouse=True)
def _wagtail_tree(transactional_db: None) -> None:
    """live_server tests flush the database between tests; put the site tree and roles back each time."""
    from cocreate.services import roles_sync, site_ensure

    roles_sync()
    site_ensure()


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot named after the test step."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page: Page, live_server: Any, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/accounts/profile/")
