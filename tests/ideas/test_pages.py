from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from ideas.models import Comment, Follow, Idea, IdeaCoCreator, InternalNote, Report, Support
from tests.conftest import logged_in_client
from tests.factories import OrganisationFactory, UserFactory
from tests.ideas.factories import IdeaFactory, SupportFactory, campaign_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(customer, board_member, product_manager, finance, superuser):
    return {
        "anonymous": None,
        "customer": customer,
        "board_member": board_member,
        "product_manager": product_manager,
        "finance": finance,
        "superuser": superuser,
    }


def client_for(user):
    return Client() if user is None else logged_in_client(user)


ALL_ROLES = ["anonymous", "customer", "board_member", "product_manager", "finance", "superuser"]


@pytest.mark.parametrize("role", ALL_ROLES)
def test_everyone_sees_the_campaign_page_and_a_public_idea(site, people, role):
    campaign = campaign_create(parent=site, title="Warehouse ideas", slug="warehouse")
    idea = IdeaFactory(campaign=campaign, title="Pallet tracker")
    client = client_for(people[role])
    page = client.get(campaign.url)
    assert page.status_code == 200
    assert "Pallet tracker" in page.content.decode()
    detail = client.get(idea.get_absolute_url())
    assert detail.status_code == 200
    html = detail.content.decode()
    assert ('data-testid="support-button"' in html) == (
        role in {"customer", "board_member", "product_manager", "superuser"}
    )
    assert ('data-testid="pm-panel"' in html) == (role in {"product_manager", "superuser"})


def test_the_campaign_page_sorts_filters_and_searches(site):
    campaign = campaign_create(parent=site, slug="c")
    IdeaFactory(campaign=campaign, title="Low", supporters_count=1)
    IdeaFactory(campaign=campaign, title="High", supporters_count=9)
    tagged = IdeaFactory(campaign=campaign, title="Tagged cold chain", supporters_count=5)
    tagged.tags.add("cold")
    IdeaFactory(campaign=campaign, title="Reviewed", status=Idea.Status.IN_REVIEW)
    client = Client()
    html = client.get(campaign.url + "?sort=supported").content.decode()
    assert html.index("High") < html.index("Tagged cold chain") < html.index("Low")
    assert "Low" not in client.get(campaign.url + "?tag=cold").content.decode()
    assert "Reviewed" in client.get(campaign.url + "?status=in_review").content.decode()
    assert "High" not in client.get(campaign.url + "?status=in_review").content.decode()
    searched = client.get(campaign.url + "?q=cold").content.decode()
    assert "Tagged cold chain" in searched
    assert "High" not in searched


def test_the_campaign_page_costs_the_same_queries_for_any_page_size(site):
    campaign = campaign_create(parent=site, slug="c")
    for i in range(3):
        IdeaFactory(campaign=campaign).tags.add(f"t{i}")
    client = Client()
    client.get(campaign.url)
    with CaptureQueriesContext(connection) as few:
        client.get(campaign.url + "?sort=supported")
    for i in range(30):
        IdeaFactory(campaign=campaign).tags.add(f"x{i}")
    from django.core.cache import cache

    cache.clear()
    client.get(campaign.url)
    with CaptureQueriesContext(connection) as many:
        response = client.get(campaign.url + "?sort=supported&page=2")
    assert response.status_code == 200
    assert len(many) == len(few)


@pytest.mark.parametrize(
    ("role", "status_code"),
    [
        ("anonymous", 404),
        ("customer", 200),
        ("board_member", 404),
        ("product_manager", 200),
        ("finance", 404),
        ("superuser", 200),
    ],
)
def test_a_pending_idea_page_is_for_its_creator_and_product_managers(site, people, role, status_code):
    idea = IdeaFactory(status=Idea.Status.PENDING, creator=people["customer"])
    assert client_for(people[role]).get(idea.get_absolute_url()).status_code == status_code


@pytest.mark.parametrize(
    ("role", "status_code"),
    [
        ("anonymous", 302),
        ("customer", 200),
        ("board_member", 200),
        ("product_manager", 200),
        ("finance", 403),
        ("superuser", 200),
    ],
)
def test_who_may_open_the_submit_form(site, people, role, status_code):
    campaign = campaign_create(parent=site)
    assert client_for(people[role]).get(f"/ideas/submit/{campaign.pk}/").status_code == status_code


def test_submitting_through_the_form_with_an_image(site, customer):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    campaign = campaign_create(parent=site)
    response = logged_in_client(customer).post(
        f"/ideas/submit/{campaign.pk}/",
        {
            "title": "Forklift dashcam",
            "summary": "See what happened.",
            "description": "First paragraph.\n\nSecond paragraph.",
            "tags": "safety, video",
            "terms_accepted": "on",
            "images": [SimpleUploadedFile("a.png", buffer.getvalue(), content_type="image/png")],
        },
    )
    idea = Idea.objects.get()
    assert response.status_code == 302
    assert response["Location"] == idea.get_absolute_url()
    assert idea.description == "<p>First paragraph.</p><p>Second paragraph.</p>"
    assert idea.images.count() == 1
    assert sorted(idea.tags.names()) == ["safety", "video"]


def test_a_fake_image_is_a_form_error(site, customer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    campaign = campaign_create(parent=site)
    response = logged_in_client(customer).post(
        f"/ideas/submit/{campaign.pk}/",
        {
            "title": "T",
            "summary": "S",
            "description": "D",
            "terms_accepted": "on",
            "images": [SimpleUploadedFile("a.png", b"<?php echo 1; ?>", content_type="image/png")],
        },
    )
    assert response.status_code == 200
    assert "is not an image" in response.content.decode()
    assert Idea.objects.count() == 0


def test_comment_follow_report_and_invitation_through_the_page(site, customer, other_customer):
    idea = IdeaFactory()
    invitation = IdeaCoCreator.objects.create(idea=idea, user=other_customer)
    client = logged_in_client(customer)
    assert client.post(f"/ideas/{idea.pk}/comment/", {"body": "Hello"}).status_code == 302
    top = Comment.objects.get()
    client.post(f"/ideas/{idea.pk}/comment/", {"body": "Again", "parent": top.pk})
    assert Comment.objects.filter(parent=top).count() == 1
    client.post(f"/ideas/{idea.pk}/follow/", {"follow": "1"})
    assert Follow.objects.filter(idea=idea, user=customer).exists()
    client.post(f"/ideas/{idea.pk}/follow/", {"follow": "0"})
    assert not Follow.objects.filter(idea=idea, user=customer).exists()
    client.post(f"/ideas/{idea.pk}/report/", {"reason": "Spam", "comment": top.pk})
    assert Report.objects.get().comment == top
    assert client.post(f"/ideas/{idea.pk}/invitation/", {"accept": "1"}).status_code == 404
    logged_in_client(other_customer).post(f"/ideas/{idea.pk}/invitation/", {"accept": "1"})
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    html = client.get(idea.get_absolute_url()).content.decode()
    assert "Again" in html


@pytest.mark.parametrize("role", ALL_ROLES)
def test_own_lists_and_notifications_need_a_login(site, people, role):
    client = client_for(people[role])
    for url in ["/ideas/mine/", "/ideas/supported/", "/ideas/notifications/"]:
        assert client.get(url).status_code == (302 if role == "anonymous" else 200)


def test_my_lists_show_created_and_supported_ideas(site, customer):
    mine = IdeaFactory(creator=customer, title="Created by me")
    supported = IdeaFactory(title="Supported by me")
    SupportFactory(idea=supported, user=customer)
    client = logged_in_client(customer)
    assert "Created by me" in client.get("/ideas/mine/").content.decode()
    assert "Supported by me" in client.get("/ideas/supported/").content.decode()
    assert mine.pk


@pytest.mark.parametrize(
    ("role", "status_code"),
    [
        ("anonymous", 302),
        ("customer", 403),
        ("board_member", 403),
        ("product_manager", 200),
        ("finance", 403),
        ("superuser", 200),
    ],
)
def test_the_b2b_view_and_export_are_for_product_managers(site, people, role, status_code):
    idea = IdeaFactory()
    client = client_for(people[role])
    assert client.get(f"/ideas/{idea.pk}/demand/").status_code == status_code
    assert client.get("/ideas/export.csv").status_code == status_code


def test_the_b2b_view_breaks_supporters_down_by_account_and_exports_csv(site, product_manager):
    gold = OrganisationFactory(tier="gold", annual_revenue="1000000.00", name="Gold Co")
    silver = OrganisationFactory(tier="silver", annual_revenue="250000.00", name="Silver Co")
    idea = IdeaFactory(supporters_count=3, title="=HYPERLINK(evil)")
    SupportFactory(idea=idea, user=UserFactory(organisation=gold), importance="must", would_buy=True, quantity=10)
    SupportFactory(idea=idea, user=UserFactory(organisation=gold), importance="important")
    SupportFactory(idea=idea, user=UserFactory(organisation=silver), would_buy=True, quantity=5)
    client = logged_in_client(product_manager)
    html = client.get(f"/ideas/{idea.pk}/demand/").content.decode()
    assert "Gold Co" in html
    assert "1,250,000" in html
    client.post(f"/ideas/{idea.pk}/demand/", {"note-body": "Call Gold Co"})
    assert InternalNote.objects.get().body == "Call Gold Co"
    contact = UserFactory(organisation=silver)
    client.post(f"/ideas/{idea.pk}/demand/", {"proxy-email": contact.email, "proxy-importance": "must"})
    assert Support.objects.get(user=contact).is_proxy
    client.post(f"/ideas/{idea.pk}/triage/", {"owner_department": "marketing", "impact": 8, "effort": 4})
    idea.refresh_from_db()
    assert idea.priority_score == 2.0
    response = client.get("/ideas/export.csv")
    rows = b"".join(response.streaming_content).decode().splitlines()
    header = rows[0].split(",")
    row = dict(zip(header, next(r for r in rows[1:] if r.startswith(str(idea.pk))).split(","), strict=False))
    assert row["supporters"] == "4"
    assert row["accounts"] == "2"
    assert row["account_revenue"] == "1250000.00"
    assert row["must_have"] == "2"
    assert row["gold"] == "2"
    assert row["title"].startswith("'=")


def test_internal_notes_never_reach_customers(site, customer, product_manager):
    idea = IdeaFactory()
    InternalNote.objects.create(idea=idea, author=product_manager, body="Secret pricing")
    assert "Secret pricing" not in logged_in_client(customer).get(idea.get_absolute_url()).content.decode()
    assert "Secret pricing" not in Client().get(f"/api/ideas/{idea.pk}/").content.decode()


def test_the_ideas_index_lists_campaigns(site):
    campaign_create(parent=site, title="One", slug="one")
    campaign_create(parent=site, title="Two", slug="two")
    html = Client().get("/ideas/").content.decode()
    assert "One" in html
    assert "Two" in html


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("anonymous", False),
        ("customer", False),
        ("board_member", False),
        ("product_manager", True),
        ("finance", False),
        ("superuser", True),
    ],
)
def test_only_product_managers_merge_and_undo_from_the_b2b_view(site, people, role, allowed):
    source, target = IdeaFactory(), IdeaFactory()
    SupportFactory(idea=source)
    client = client_for(people[role])
    client.post(f"/ideas/{source.pk}/merge/", {"target": str(target.pk), "reason": "Duplicate"})
    source.refresh_from_db()
    target.refresh_from_db()
    assert (source.status == Idea.Status.MERGED) == allowed
    assert target.supporters_count == (1 if allowed else 0)
    if allowed:
        from ideas.models import IdeaMerge

        client.post(f"/ideas/merges/{IdeaMerge.objects.get().pk}/undo/")
        source.refresh_from_db()
        target.refresh_from_db()
        assert source.status == Idea.Status.PUBLISHED
        assert target.supporters_count == 0


@pytest.mark.parametrize("url_name", ["ideas:mine", "boards:index", "rewards:index", "profile", "home"])
def test_every_page_header_shows_the_unread_notification_count(site, customer, url_name):
    from django.urls import reverse

    from ideas import services

    services.notify(users=[customer], kind="status", idea=None, message="Hello", params={})
    url = "/" if url_name == "home" else reverse(url_name)
    response = logged_in_client(customer).get(url, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="notifications-link"') == 1
    assert '<span class="badge" data-testid="notifications-badge" data-notifications-badge>1</span>' in html
    assert 'data-notifications-socket="/ws/notifications/"' in html


def test_a_visitor_gets_no_notification_badge_or_socket(site):
    html = Client().get("/").content.decode()
    assert "notifications-badge" not in html
    assert "data-notifications-socket" not in html


def test_the_header_keeps_a_hidden_badge_and_the_live_region_for_the_notification_socket(site, customer):
    html = logged_in_client(customer).get("/ideas/mine/").content.decode()
    assert '<span class="badge" data-testid="notifications-badge" data-notifications-badge hidden>0</span>' in html
    assert 'role="status" aria-live="polite" data-notifications-socket="/ws/notifications/"' in html
    assert "ideas/notifications.js" in html


@pytest.mark.parametrize(
    ("role", "status_code"),
    [
        ("anonymous", 302),
        ("customer", 403),
        ("board_member", 403),
        ("product_manager", 200),
        ("finance", 200),
        ("superuser", 200),
    ],
)
def test_the_demand_overview_is_for_staff(site, people, role, status_code):
    IdeaFactory(title="Visible in insights")
    response = client_for(people[role]).get("/ideas/demand/?sort=supporters")
    assert response.status_code == status_code
    if status_code == 200:
        assert "Visible in insights" in response.content.decode()


def test_the_demand_overview_ranks_ideas_by_the_revenue_behind_them(site, product_manager):
    rich = OrganisationFactory(annual_revenue="9000000.00")
    small = OrganisationFactory(annual_revenue="1000.00")
    loved_by_many_small = IdeaFactory(title="Many small", supporters_count=2)
    loved_by_one_rich = IdeaFactory(title="One rich", supporters_count=1)
    SupportFactory(idea=loved_by_many_small, user=UserFactory(organisation=small))
    SupportFactory(idea=loved_by_many_small, user=UserFactory(organisation=small))
    SupportFactory(idea=loved_by_one_rich, user=UserFactory(organisation=rich))
    html = logged_in_client(product_manager).get("/ideas/demand/?sort=revenue").content.decode()
    assert html.index("One rich") < html.index("Many small")
    html = logged_in_client(product_manager).get("/ideas/demand/?sort=supporters").content.decode()
    assert html.index("Many small") < html.index("One rich")
