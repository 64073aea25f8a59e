"""``manage.py run_platform``: the address it serves is the one links in e-mails point at."""

from __future__ import annotations

import os

import pytest
from django.conf import settings as django_settings

from cocreate.management.commands.run_platform import Command


def test_links_point_at_the_port_the_platform_serves(monkeypatch: pytest.MonkeyPatch, settings: object) -> None:
    monkeypatch.setenv("SITE_URL", "placeholder")  # registered, so monkeypatch restores the environment afterwards
    monkeypatch.delenv("SITE_URL")

    Command()._default_site_url({"host": "0.0.0.0", "port": 8951})  # noqa: S104

    assert os.environ["SITE_URL"] == "http://127.0.0.1:8951"  # what the web and worker processes inherit
    assert django_settings.SITE_URL == "http://127.0.0.1:8951"
    assert django_settings.WAGTAILADMIN_BASE_URL == "http://127.0.0.1:8951"


def test_a_site_url_given_in_the_environment_wins(monkeypatch: pytest.MonkeyPatch, settings: object) -> None:
    monkeypatch.setenv("SITE_URL", "https://ideas.example.com")
    before = django_settings.SITE_URL

    Command()._default_site_url({"host": "127.0.0.1", "port": 8951})

    assert os.environ["SITE_URL"] == "https://ideas.example.com"
    assert before == django_settings.SITE_URL
