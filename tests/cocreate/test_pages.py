from __future__ import annotations

import pytest
from django.test import Client, override_settings

from cocreate.models import ContentPage, HomePage
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_home_page_explains_the_platform_with_live_figures(site: HomePage) -> None:
    OrganisationFactory.create_batch(2)
    UserFactory.create_batch(3)
    page = Client().get("/").content.decode()
    assert "Build the product with the customers who use it." in page
    assert 'data-testid="figure-members">3<' in page
    assert 'data-testid="figure-organisations">2<' in page


@pytest.mark.parametrize(
    ("language", "heading"),
    [("en", "How it works"), ("zh-hans", "如何运作"), ("zh-hant", "如何運作")],
)
def test_the_home_page_speaks_english_and_both_chinese_scripts(site: HomePage, language: str, heading: str) -> None:
    response = Client(headers={"accept-language": language}).get("/")
    assert response.status_code == 200
    assert f'<html lang="{language}">' in response.content.decode()
    assert heading in response.content.decode()


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/signup/", "/api/docs/", "/healthz"])
@pytest.mark.parametrize("language", ["en", "zh-hans", "zh-hant"])
def test_the_entry_pages_answer_in_every_language(site: HomePage, path: str, language: str) -> None:
    assert Client(headers={"accept-language": language}).get(path).status_code == 200


def test_the_language_switcher_remembers_the_choice(site: HomePage) -> None:
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "zh-hant", "next": "/"})
    assert response.status_code == 302
    assert '<html lang="zh-hant">' in client.get("/").content.decode()


def test_content_pages_are_served_and_linked_from_the_footer(site: HomePage) -> None:
    site.add_child(instance=ContentPage(title="Privacy", slug="privacy", body="<p>We keep little.</p>", version="1"))
    page = Client().get("/privacy/").content.decode()
    assert "We keep little." in page
    assert 'href="/privacy/"' in Client().get("/").content.decode()


def test_an_unknown_url_gets_the_styled_404(site: HomePage) -> None:
    response = Client().get("/no-such-page/")
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


def test_an_unknown_api_url_gets_a_json_404(site: HomePage) -> None:
    response = Client().get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


@override_settings(DEBUG=False)
def test_a_server_error_gets_the_styled_500_without_details(site: HomePage, monkeypatch: pytest.MonkeyPatch) -> None:
    from cocreate import selectors

    def explode() -> None:
        raise RuntimeError("secret database detail")

    monkeypatch.setattr(selectors, "platform_figures", explode)
    client = Client(raise_request_exception=False)
    response = client.get("/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong on our side" in body
    assert "secret database detail" not in body
    assert "Traceback" not in body


def test_pages_carry_security_headers(site: HomePage) -> None:
    response = Client().get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert len(response["X-Request-ID"]) == 32


def test_the_home_page_counts_published_ideas_their_supporters_and_boards(site: HomePage) -> None:
    from boards.models import Board
    from ideas.models import Idea
    from tests.ideas.factories import IdeaFactory, SupportFactory

    published = IdeaFactory(status=Idea.Status.PUBLISHED)
    IdeaFactory(status=Idea.Status.PENDING)
    SupportFactory(idea=published)
    SupportFactory(idea=published)
    Board.objects.create(name="Strategy council")
    page = Client().get("/").content.decode()
    assert 'data-testid="figure-ideas">1<' in page
    assert 'data-testid="figure-supporters">2<' in page
    assert 'data-testid="figure-boards">1<' in page
