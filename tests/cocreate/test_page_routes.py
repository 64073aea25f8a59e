"""Pages are served without walking the page tree on every request, and any change to a page, its privacy, the
site or the site settings shows on the very next request."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from wagtail.models import Page, PageViewRestriction

from cocreate.models import ContentPage, HomePage, SiteSettings
from tests.ideas.factories import campaign_create

pytestmark = pytest.mark.django_db

ROUTING_TABLES = ("wagtailcore_page", "wagtailcore_site", "wagtailcore_pageviewrestriction", "cocreate_sitesettings")


def _routing_queries(client: Client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in queries.captured_queries if any(t in q["sql"] for t in ROUTING_TABLES)]


def test_a_page_served_again_costs_no_routing_queries(site: HomePage) -> None:
    campaign = campaign_create(parent=site, title="Warehouse ideas", slug="warehouse")
    SiteSettings.for_site(site.get_site())  # created on first use, which (as any change) routes again
    client = Client()
    assert _routing_queries(client, campaign.url)  # the first request routes through Wagtail

    assert _routing_queries(client, campaign.url) == []
    assert _routing_queries(client, campaign.url + "?sort=newest") == []


def test_a_published_change_shows_on_the_next_request(site: HomePage) -> None:
    campaign = campaign_create(parent=site, title="Warehouse ideas", slug="warehouse")
    client = Client()
    client.get(campaign.url)

    campaign.title = "Yard ideas"
    campaign.save_revision().publish()

    assert "Yard ideas" in client.get(campaign.url).content.decode()


def test_a_draft_stays_unseen(site: HomePage) -> None:
    campaign = campaign_create(parent=site, title="Warehouse ideas", slug="warehouse")
    client = Client()
    client.get(campaign.url)

    campaign.title = "Draft title"
    campaign.save_revision()

    html = client.get(campaign.url).content.decode()
    assert "Warehouse ideas" in html
    assert "Draft title" not in html


def test_an_unpublished_page_is_gone_on_the_next_request(site: HomePage) -> None:
    campaign = campaign_create(parent=site, slug="warehouse")
    client = Client()
    assert client.get(campaign.url).status_code == 200

    campaign.unpublish()

    assert client.get("/warehouse/").status_code == 404


def _content_page(parent: Page, slug: str) -> ContentPage:
    page = ContentPage(title=slug.title(), slug=slug, body="<p>Text.</p>")
    parent.add_child(instance=page)
    page.save_revision().publish()
    return page


def test_a_renamed_page_answers_at_its_new_address_only(site: HomePage) -> None:
    about = _content_page(site, "about")
    client = Client()
    assert client.get("/about/").status_code == 200

    about.slug = "who-we-are"
    about.save_revision().publish()

    assert client.get("/about/").status_code == 404
    assert client.get("/who-we-are/").status_code == 200


def test_a_moved_page_answers_at_its_new_address_only(site: HomePage) -> None:
    team = _content_page(site, "team")
    about = _content_page(site, "about")
    client = Client()
    assert client.get("/about/").status_code == 200

    about.move(team, pos="last-child")

    old = client.get("/about/")  # no longer routed: Wagtail's automatic redirect points to the new address
    assert (old.status_code, old["Location"]) == (301, "/team/about/")
    assert client.get("/team/about/").status_code == 200


def test_a_deleted_page_is_gone_on_the_next_request(site: HomePage) -> None:
    campaign = campaign_create(parent=site, slug="warehouse")
    client = Client()
    assert client.get("/warehouse/").status_code == 200

    campaign.delete()

    assert client.get("/warehouse/").status_code == 404


def test_a_page_made_private_asks_for_login_on_the_next_request(site: HomePage) -> None:
    campaign = campaign_create(parent=site, slug="warehouse")
    client = Client()
    assert client.get("/warehouse/").status_code == 200

    PageViewRestriction.objects.create(page=campaign, restriction_type=PageViewRestriction.LOGIN)
    response = client.get("/warehouse/")
    assert response.status_code == 302
    assert "login" in response["Location"]

    PageViewRestriction.objects.filter(page=campaign).delete()
    assert client.get("/warehouse/").status_code == 200


def test_changed_site_settings_show_on_the_next_request(site: HomePage) -> None:
    client = Client()
    client.get("/")
    settings = SiteSettings.for_site(site.get_site())

    settings.footer_text = "Run by the yard team"
    settings.save()

    assert "Run by the yard team" in client.get("/").content.decode()
