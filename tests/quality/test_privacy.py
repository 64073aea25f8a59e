"""A person downloads everything held about them, and deleting the account removes the personal data while the
content and the royalty ledger stay, under a pseudonym."""

from __future__ import annotations

import json

import pytest
from allauth.account.models import EmailAddress
from django.contrib.sessions.models import Session as WebSession
from django.test import Client
from rest_framework.authtoken.models import Token

from boards import services as board_services
from boards.models import ChatMessage, NpsResponse, SessionEvent
from boards.selectors import session_access
from cocreate import privacy
from cocreate.demo import DEMO_PASSWORD
from cocreate.errors import DomainError
from cocreate.models import User
from ideas import services as idea_services
from ideas.models import Comment, Follow, Idea, Support
from rewards.models import LedgerEntry, Payout
from tests.quality.world import World, world_build

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db: None) -> World:
    world = world_build()
    customer = world.users["customer"]
    member = world.users["member"]
    assert customer is not None
    assert member is not None
    idea_services.comment_add(idea=world.idea, author=customer, body="<p>Cora's own comment</p>")
    idea_services.follow_set(idea=world.idea, user=customer, follow=True)
    idea_services.support_add(idea=world.idea, user=member)
    access = session_access(user=member, session_id=world.session.pk)
    board_services.chat_send(access=access, user=member, body="Mia says hello")
    board_services.question_ask(access=access, user=member, body="When does it ship?")
    NpsResponse.objects.create(session=world.session, user=member, score=9, comment="Good session")
    return world


def test_the_export_holds_profile_ideas_comments_and_royalties(world: World) -> None:
    customer = world.users["customer"]
    assert customer is not None
    data = privacy.user_data_export(user=customer)
    assert data["profile"]["email"] == customer.email
    assert "password" not in data["profile"]
    assert data["profile"]["organisation_name"] == customer.organisation.name  # type: ignore[union-attr]
    assert [row["id"] for row in data["ideas"]["created"]] == [world.idea.pk]
    assert any("Cora's own comment" in row["body"] for row in data["ideas"]["comments"])
    assert data["ideas"]["follows"]
    assert sum(row["amount_minor"] for row in data["royalties"]["ledger"]) == sum(
        LedgerEntry.objects.filter(payee=customer).values_list("amount_minor", flat=True)
    )
    assert data["royalties"]["shares"]
    assert data["royalties"]["payouts"]
    json.dumps(data)


def test_the_export_holds_board_memberships_chat_questions_supports_and_survey_answers(world: World) -> None:
    member = world.users["member"]
    assert member is not None
    data = privacy.user_data_export(user=member)
    assert [row["board_id"] for row in data["boards"]["memberships"]] == [world.board.pk]
    assert [row["body"] for row in data["boards"]["chat_messages"]] == ["Mia says hello"]
    assert [row["body"] for row in data["boards"]["questions"]] == ["When does it ship?"]
    assert [row["score"] for row in data["boards"]["survey_answers"]] == [9]
    assert [row["idea_id"] for row in data["ideas"]["supports"]] == [world.idea.pk]


def test_the_export_holds_nothing_of_other_people(world: World) -> None:
    customer = world.users["customer"]
    assert customer is not None
    text = json.dumps(privacy.user_data_export(user=customer))
    assert "Mia says hello" not in text
    assert world.users["member"].email not in text  # type: ignore[union-attr]


def test_the_export_downloads_as_json_from_the_privacy_page(world: World) -> None:
    client = world.client("customer")
    page = client.get("/accounts/privacy/")
    assert page.status_code == 200
    assert "/accounts/privacy/export.json" in page.content.decode()
    assert "/accounts/privacy/" in client.get("/accounts/profile/").content.decode()
    response = client.get("/accounts/privacy/export.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    assert json.loads(response.content)["profile"]["id"] == world.users["customer"].pk  # type: ignore[union-attr]


def test_anonymous_visitors_are_sent_to_log_in(world: World) -> None:
    for url in ("/accounts/privacy/", "/accounts/privacy/export.json", "/accounts/privacy/delete/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_deleting_removes_personal_data_and_keeps_content_and_ledger(world: World) -> None:
    customer = world.users["customer"]
    assert customer is not None
    Token.objects.create(user=customer)
    ledger_before = list(LedgerEntry.objects.filter(payee=customer).values_list("pk", "amount_minor"))
    comments_before = Comment.objects.filter(author=customer).count()
    assert ledger_before

    privacy.user_delete(user=customer)

    customer.refresh_from_db()
    assert customer.email == f"deleted-{customer.pk}@invalid"
    assert customer.username == customer.email
    assert customer.public_name == "Deleted user"
    assert customer.organisation is None
    assert not customer.is_active
    assert not customer.has_usable_password()
    assert not customer.groups.exists()
    assert not EmailAddress.objects.filter(user=customer).exists()
    assert not Token.objects.filter(user=customer).exists()
    assert not Follow.objects.filter(user=customer).exists()
    assert Idea.objects.get(pk=world.idea.pk).creator_id == customer.pk
    assert Comment.objects.filter(author=customer).count() == comments_before
    assert list(LedgerEntry.objects.filter(payee=customer).values_list("pk", "amount_minor")) == ledger_before
    assert Payout.objects.filter(payee=customer).exists()


def test_deleted_content_shows_deleted_user_in_pages_and_the_live_room_feed(world: World) -> None:
    member = world.users["member"]
    assert member is not None
    name = member.public_name
    privacy.user_delete(user=member)
    page = world.client("product_manager").get(f"/ideas/{world.idea.pk}/").content.decode()
    assert "Deleted user" in page
    assert name not in page
    events = SessionEvent.objects.filter(author=member)
    assert events.exists()
    for event in events:
        assert event.payload.get("author", {}).get("name") in (None, "Deleted user")
    assert ChatMessage.objects.filter(author=member).count() == 1
    assert Support.objects.filter(user=member).count() == 1


def test_deleting_ends_every_session_of_the_person(world: World) -> None:
    customer = world.users["customer"]
    assert customer is not None
    first, second, other = world.client("customer"), world.client("customer"), world.client("member")
    assert first.get("/accounts/profile/").status_code == 200
    assert second.get("/accounts/profile/").status_code == 200
    sessions_before = WebSession.objects.count()
    privacy.user_delete(user=customer)
    assert WebSession.objects.count() == sessions_before - 2
    assert first.get("/accounts/profile/").status_code == 302
    assert other.get("/accounts/profile/").status_code == 200


def test_the_confirmation_page_wants_the_exact_e_mail(world: World) -> None:
    customer = world.users["customer"]
    assert customer is not None
    client = world.client("customer")
    assert client.get("/accounts/privacy/delete/").status_code == 200
    wrong = client.post("/accounts/privacy/delete/", {"email": "someone@example.com"})
    assert wrong.status_code == 400
    customer.refresh_from_db()
    assert customer.is_active
    right = client.post("/accounts/privacy/delete/", {"email": customer.email.upper()})
    assert right.status_code == 302
    customer.refresh_from_db()
    assert not customer.is_active
    assert client.get("/accounts/profile/").status_code == 302


def test_a_deleted_person_cannot_log_in_again(world: World) -> None:
    customer = world.users["customer"]
    assert customer is not None
    email = customer.email
    privacy.user_delete(user=customer)
    client = Client()
    assert not client.login(email=email, password=DEMO_PASSWORD)
    assert not User.objects.filter(email=email).exists()


def test_an_administrator_cannot_delete_their_own_account(world: World) -> None:
    staff = world.users["staff"]
    assert staff is not None
    with pytest.raises(DomainError):
        privacy.user_delete(user=staff)
    staff.refresh_from_db()
    assert staff.is_active
