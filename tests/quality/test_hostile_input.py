"""Hostile input: XSS vectors through every rendered field come out inert, and malformed, oversize, cross-site and
mistyped requests are refused with a 4xx while nothing is stored."""

from __future__ import annotations

import datetime
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client, override_settings
from PIL import Image
from rest_framework.authtoken.models import Token

from boards import services as board_services
from boards.models import ChatMessage
from boards.selectors import session_access
from cocreate.asgi import application
from cocreate.roles import Role
from ideas import services as idea_services
from ideas.models import Comment, Idea, IdeaImage, Support
from rewards import services as reward_services
from rewards.models import Agreement, SalesImport
from tests.boards.factories import MembershipFactory
from tests.conftest import api_client_for
from tests.factories import OrganisationFactory, UserFactory
from tests.quality.world import World, world_build
from tests.quality.xss import VECTORS, executable_markup

pytestmark = pytest.mark.django_db

MARKUP_VECTORS = [v for v in VECTORS if "<" in v and not v.startswith(("&lt;", "{{"))]


@pytest.fixture
def world(db: None) -> World:
    return world_build()


def assert_inert(html: str, where: str) -> None:
    found = executable_markup(html)
    assert not found, f"{where}: executable markup {found}"


@pytest.mark.parametrize("vector", MARKUP_VECTORS)
def test_the_checker_sees_each_raw_vector(vector: str) -> None:
    """The checker can fail: every markup vector, unescaped, is reported (the malformed ones as the browser would
    repair them)."""
    closers = {"<img src=x onerror=alert('xss-unclosed'": ">", VECTORS[15]: "</style>"}
    wrapped = vector + closers.get(vector, "")
    assert executable_markup(wrapped), vector


def _stored_and_rendered(world: World) -> tuple[list[Idea], list[str]]:
    """Push every vector through every rendered field using the real API and services; return the ideas."""
    pm = world.users["product_manager"]
    member = world.users["member"]
    assert pm is not None
    assert member is not None
    access = session_access(user=member, session_id=world.session.pk)
    pm_access = session_access(user=pm, session_id=world.session.pk)
    ideas = []
    for index, vector in enumerate(VECTORS):
        author = UserFactory(
            roles=[Role.CUSTOMER, Role.BOARD_MEMBER],
            display_name=vector[:100],
            organisation=OrganisationFactory(name=f"{vector[:150]} {index}", tier="gold"),
        )
        MembershipFactory(board=world.board, user=author)
        api = api_client_for(author)
        response = api.post(
            "/api/ideas/",
            {
                "campaign": world.campaign.pk,
                "title": f"Idea {index} {vector}"[: idea_services.TITLE_MAX],
                "summary": f"Summary {index} {vector}",
                "description": f"<p>Description {index}</p><p>{vector}</p>{vector}",
                "terms_accepted": True,
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        idea = Idea.objects.get(pk=response.json()["id"])
        if idea.status == Idea.Status.PENDING:
            idea = idea_services.idea_moderate(idea=idea, moderator=pm, decision="publish")
        ideas.append(idea)
        assert (
            api.post(
                f"/api/ideas/{idea.pk}/comments/", {"body": f"Comment {index} {vector}"}, format="json"
            ).status_code
            == 201
        )
        update = api.post(
            f"/api/ideas/{idea.pk}/comments/", {"body": f"Update {index} {vector}", "kind": "update"}, format="json"
        )
        assert update.status_code == 201, update.content
        author_access = session_access(user=author, session_id=world.session.pk)
        board_services.chat_send(access=author_access, user=author, body=f"Chat {index} {vector}")
        board_services.question_ask(access=access, user=member, body=f"Q {index} {vector}")
        reward_services.agreement_create(
            actor=world.users["finance"],
            title=f"Agreement {index} {vector}"[:200],
            currency="EUR",
            terms=reward_services.TermsInput(
                effective_from=datetime.date(2020, 1, 1),
                rate_bp=100,
                tiers=[],
                rounding="half_up",
                minimum_payout=Decimal("0"),
                advance=Decimal("0"),
            ),
            payees=[(author, 10_000)],
            product_codes=[f"XSS-{index}"],
        )
    board_services.poll_open(
        access=pm_access,
        user=pm,
        question=f"Poll {VECTORS[2]}",
        options=[f"A {VECTORS[0]}", f"B {VECTORS[8]}", "plain"],
    )
    pages = [
        "/ideas/",
        world.campaign.url,
        f"/boards/{world.board.pk}/",
        f"/boards/sessions/{world.session.pk}/",
        f"/boards/sessions/{world.session.pk}/live/",
        "/royalties/agreements/",
        "/ideas/notifications/",
    ]
    for idea in ideas:
        pages += [f"/ideas/{idea.pk}/", f"/ideas/{idea.pk}/demand/"]
    pages += [f"/royalties/agreements/{a.pk}/" for a in Agreement.objects.all()]
    return ideas, pages


def test_no_vector_survives_in_any_rendered_page(world: World) -> None:
    _ideas, pages = _stored_and_rendered(world)
    viewers = {role: world.client(role) for role in ("anonymous", "member", "product_manager", "finance")}
    checked = 0
    for url in pages:
        for role, client in viewers.items():
            response = client.get(url, follow=True)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            assert_inert(response.content.decode(), f"{role} {url}")
            checked += 1
    assert checked >= len(pages)


def test_no_vector_survives_in_what_is_stored(world: World) -> None:
    _stored_and_rendered(world)
    for idea in Idea.objects.all():
        for field in (idea.title, idea.summary, idea.description):
            assert not executable_markup(field), field
    for comment in Comment.objects.all():
        assert not executable_markup(comment.body), comment.body
    for message in ChatMessage.objects.all():
        assert not executable_markup(message.body), message.body


@pytest.mark.xfail(
    strict=True,
    reason="rewards.services.agreement_create stores the title as given (escaped on output, so the pages are inert, "
    "but CSV/PDF statements and the API carry the raw markup); style.md asks to store user text cleaned",
)
def test_agreement_titles_are_stored_clean(world: World) -> None:
    _stored_and_rendered(world)
    for agreement in Agreement.objects.all():
        assert not executable_markup(agreement.title), agreement.title


def test_display_names_set_through_the_profile_are_stored_clean(world: World) -> None:
    client = world.client("customer")
    for vector in MARKUP_VECTORS:
        client.post("/accounts/profile/", {"display_name": f"Name {vector}"[:100], "preferred_language": "en"})
        customer = world.users["customer"]
        assert customer is not None
        customer.refresh_from_db()
        assert not executable_markup(customer.display_name), customer.display_name


def test_the_live_room_event_feed_carries_text_only(world: World) -> None:
    _stored_and_rendered(world)
    events = world.client("member").get(f"/api/sessions/{world.session.pk}/events/").json()["events"]
    # Author names are carried as the account holds them (the live room inserts them as text); the bodies, questions
    # and poll options are the services' to clean.
    for event in events:
        event["payload"].pop("author", None)
    assert len(events) >= len(VECTORS)
    for event in events:
        for value in _strings(event["payload"]):
            assert not executable_markup(value), (event["kind"], value)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


# -- requests that must be refused -------------------------------------------------------------------------------


def test_an_oversize_comment_body_is_refused_and_nothing_is_stored(world: World) -> None:
    client = world.client("member")
    before = Comment.objects.count()
    body = json.dumps({"body": "x" * (6 * 1024 * 1024)})
    response = client.post(f"/api/ideas/{world.idea.pk}/comments/", body, content_type="application/json")
    assert 400 <= response.status_code < 500
    too_long = client.post(
        f"/api/ideas/{world.idea.pk}/comments/", {"body": "y" * 6000}, content_type="application/json"
    )
    assert too_long.status_code == 400
    assert Comment.objects.count() == before


@pytest.mark.parametrize("payload", ['{"body": ', "not json at all", '["body"]', '{"body": "\\ud800"}', "\x00\x01"])
def test_malformed_json_is_refused_and_nothing_is_stored(world: World, payload: str) -> None:
    client = world.client("member")
    before = Comment.objects.count(), Idea.objects.count()
    for url in (f"/api/ideas/{world.idea.pk}/comments/", "/api/ideas/"):
        response = client.post(url, payload, content_type="application/json")
        assert response.status_code == 400, (url, response.status_code)
        assert "detail" in response.json() or response.json()
    assert (Comment.objects.count(), Idea.objects.count()) == before


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/octet-stream"])
def test_wrong_content_types_are_refused_with_415(world: World, content_type: str) -> None:
    client = world.client("member")
    before = Comment.objects.count()
    response = client.post(f"/api/ideas/{world.idea.pk}/comments/", "body=hello", content_type=content_type)
    assert response.status_code == 415
    assert Comment.objects.count() == before


def test_posts_without_a_csrf_token_are_refused_and_nothing_is_stored(world: World) -> None:
    client = world.client("member", enforce_csrf_checks=True)
    before = Comment.objects.count(), Support.objects.count()
    assert client.post(f"/ideas/{world.idea.pk}/comment/", {"body": "hello"}).status_code == 403
    api = client.post(f"/api/ideas/{world.idea.pk}/support/", {}, content_type="application/json")
    assert api.status_code == 403
    assert client.post(f"/api/ideas/{world.idea.pk}/comments/", {"body": "hi"}, "application/json").status_code == 403
    assert (Comment.objects.count(), Support.objects.count()) == before


def test_a_token_client_needs_no_csrf_token_but_a_valid_token(world: World) -> None:
    member = world.users["member"]
    token, _ = Token.objects.get_or_create(user=member)
    client = Client(enforce_csrf_checks=True)
    bad = client.post(
        f"/api/ideas/{world.idea.pk}/support/", {}, "application/json", HTTP_AUTHORIZATION="Token not-a-real-token"
    )
    assert bad.status_code in (401, 403)
    good = client.post(
        f"/api/ideas/{world.idea.pk}/support/", {}, "application/json", HTTP_AUTHORIZATION=f"Token {token.key}"
    )
    assert good.status_code == 201


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("origin", [b"http://evil.example", b"null", b"http://testserver.evil.example"])
async def test_cross_origin_websocket_handshakes_are_refused(origin: bytes) -> None:
    world = await sync_to_async(world_build)()
    token, _ = await sync_to_async(Token.objects.get_or_create)(user=world.users["member"])
    comm = WebsocketCommunicator(
        application,
        f"/ws/sessions/{world.session.pk}/",
        headers=[(b"origin", origin), (b"authorization", f"Token {token.key}".encode())],
    )
    connected, _ = await comm.connect()
    assert not connected
    assert await ChatMessage.objects.acount() == 0


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, format="PNG")
    return buffer.getvalue()


def test_path_traversal_in_an_image_name_stays_inside_media(world: World, tmp_path: Path) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    customer = world.users["customer"]
    assert customer is not None
    with override_settings(MEDIA_ROOT=str(tmp_path / "media")):
        client = world.client("customer")
        response = client.post(
            f"/ideas/submit/{world.campaign.pk}/",
            {
                "title": "Traversal",
                "summary": "An image with a hostile name",
                "description": "<p>See the image.</p>",
                "terms_accepted": "on",
                "images": SimpleUploadedFile("../../../../etc/evil.png", _png(), content_type="image/png"),
            },
        )
        assert response.status_code in (200, 302)
        for image in IdeaImage.objects.all():
            stored = Path(image.image.path).resolve()
            assert stored.is_relative_to((tmp_path / "media").resolve()), stored
            assert ".." not in image.image.name
        assert not (tmp_path / "etc").exists()


def test_a_text_file_posing_as_an_image_is_refused_and_nothing_is_stored(world: World, tmp_path: Path) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    before = Idea.objects.count(), IdeaImage.objects.count()
    with override_settings(MEDIA_ROOT=str(tmp_path / "media")):
        response = world.client("customer").post(
            f"/ideas/submit/{world.campaign.pk}/",
            {
                "title": "Fake image",
                "summary": "A script named .png",
                "description": "<p>x</p>",
                "terms_accepted": "on",
                "images": SimpleUploadedFile("evil.png", b"<script>alert(1)</script>", content_type="image/png"),
            },
        )
    # A form page answers 200 with the error shown, the way Django forms do; nothing is stored.
    assert response.status_code == 200
    assert (Idea.objects.count(), IdeaImage.objects.count()) == before


def test_path_traversal_in_a_sales_file_name_is_not_kept(world: World) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.rewards.factories import csv_bytes

    client = world.client("finance")
    upload = SimpleUploadedFile("../../../etc/passwd.csv", csv_bytes("SKU-1,2026-08,EUR,10.00,0,0,T9,C9"))
    response = client.post("/api/royalties/sales-imports/", {"file": upload})
    assert response.status_code in (201, 400)
    for record in SalesImport.objects.all():
        assert "/" not in record.file_name, record.file_name
        assert ".." not in record.file_name, record.file_name
