from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from cocreate.errors import ConflictError, DomainError, PermissionDeniedError
from cocreate.roles import Role
from ideas import services
from ideas.models import COMMENT_EDIT_WINDOW, Comment, Idea, Report
from tests.conftest import api_client_for, logged_in_client
from tests.factories import UserFactory
from tests.ideas.factories import CommentFactory, IdeaFactory

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "author", "other_customer", "board_member", "product_manager", "finance", "superuser"]


@pytest.fixture
def people(customer, other_customer, board_member, product_manager, finance, superuser):
    return {
        "anonymous": None,
        "author": customer,
        "other_customer": other_customer,
        "board_member": board_member,
        "product_manager": product_manager,
        "finance": finance,
        "superuser": superuser,
    }


def _url(comment: Comment) -> str:
    return reverse("api-idea-comment", kwargs={"pk": comment.idea_id, "comment_id": comment.pk})


def _age(comment: Comment, delta: timedelta) -> None:
    Comment.objects.filter(pk=comment.pk).update(created_at=timezone.now() - delta)
    comment.refresh_from_db()


# Editing ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 403),
        ("author", 200),
        ("other_customer", 403),
        ("board_member", 403),
        ("product_manager", 403),
        ("finance", 403),
        ("superuser", 403),
    ],
)
def test_only_the_author_edits_a_comment(site, people, customer, role, expected):
    comment = CommentFactory(idea=IdeaFactory(), author=customer, body="<p>Frist</p>")
    response = api_client_for(people[role]).patch(_url(comment), {"body": "<p>First</p>"}, format="json")
    assert response.status_code == expected
    comment.refresh_from_db()
    if expected == 200:
        assert comment.body == "<p>First</p>"
        assert comment.edited_at is not None
        assert response.json()["body_html"] == "<p>First</p>"
        assert response.json()["edited_at"] is not None
    else:
        assert comment.body == "<p>Frist</p>"
        assert comment.edited_at is None


def test_an_edit_after_the_window_is_a_conflict_and_changes_nothing(site, customer):
    comment = CommentFactory(idea=IdeaFactory(), author=customer, body="<p>Old</p>")
    _age(comment, COMMENT_EDIT_WINDOW + timedelta(seconds=1))
    response = api_client_for(customer).patch(_url(comment), {"body": "<p>New</p>"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "edit_window_closed"
    comment.refresh_from_db()
    assert (comment.body, comment.edited_at) == ("<p>Old</p>", None)


def test_an_edit_just_inside_the_window_is_accepted(site, customer):
    comment = CommentFactory(idea=IdeaFactory(), author=customer)
    _age(comment, COMMENT_EDIT_WINDOW - timedelta(seconds=30))
    edited = services.comment_edit(comment=comment, actor=customer, body="Still in time")
    assert edited.body == "Still in time"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("", None),  # the serializer refuses a blank body
        ("<p> </p><b></b>", "required"),  # nothing is left after sanitizing
        ("x" * 5001, None),  # longer than the serializer allows
    ],
)
def test_bad_edits_are_refused_and_change_nothing(site, customer, body, code):
    comment = CommentFactory(idea=IdeaFactory(), author=customer, body="<p>Kept</p>")
    response = api_client_for(customer).patch(_url(comment), {"body": body}, format="json")
    assert response.status_code == 400
    if code:
        assert response.json()["code"] == code
    comment.refresh_from_db()
    assert (comment.body, comment.edited_at) == ("<p>Kept</p>", None)


def test_an_edit_goes_through_the_sanitizer_and_the_length_limit(site, customer):
    comment = CommentFactory(idea=IdeaFactory(), author=customer)
    edited = services.comment_edit(
        comment=comment, actor=customer, body='<p onclick="x()">Better <script>bad()</script></p>'
    )
    assert "script" not in edited.body
    assert "onclick" not in edited.body
    # Escaping can make the stored HTML longer than what was typed; the limit applies to the stored HTML.
    with pytest.raises(DomainError) as error:
        services.comment_edit(comment=comment, actor=customer, body="&" * 4_000)
    assert error.value.code == "too_long"


def test_a_deleted_or_hidden_comment_cannot_be_edited(site, customer, product_manager):
    deleted = CommentFactory(idea=IdeaFactory(), author=customer)
    services.comment_delete(comment=deleted, actor=customer)
    with pytest.raises(ConflictError):
        services.comment_edit(comment=deleted, actor=customer, body="back")
    hidden = CommentFactory(idea=IdeaFactory(), author=customer)
    services.comment_hide(comment=hidden, moderator=product_manager)
    response = api_client_for(customer).patch(_url(hidden), {"body": "back"}, format="json")
    assert response.status_code == 404


def test_comments_on_a_frozen_idea_cannot_be_edited(site, customer):
    comment = CommentFactory(idea=IdeaFactory(), author=customer, body="<p>Kept</p>")
    Idea.objects.filter(pk=comment.idea_id).update(status=Idea.Status.ARCHIVED)
    comment.refresh_from_db()
    with pytest.raises(ConflictError):
        services.comment_edit(comment=comment, actor=customer, body="late")


# Deleting --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 403),
        ("author", 204),
        ("other_customer", 403),
        ("board_member", 403),
        ("product_manager", 204),
        ("finance", 403),
        ("superuser", 204),
    ],
)
def test_the_author_or_a_moderator_deletes_a_comment(site, people, customer, role, expected):
    comment = CommentFactory(idea=IdeaFactory(), author=customer, body="<p>Oops</p>")
    response = api_client_for(people[role]).delete(_url(comment))
    assert response.status_code == expected
    comment.refresh_from_db()
    assert (comment.deleted_at is not None) == (expected == 204)
    assert (comment.body == "") == (expected == 204)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("other_customer", 403),
        ("board_member", 403),
        ("finance", 403),
        ("pm_without_staff_flag", 403),
        ("product_manager", 204),
        ("superuser", 204),
    ],
)
def test_only_staff_delete_an_official_response(site, people, product_manager, role, expected):
    people = {**people, "pm_without_staff_flag": UserFactory(roles=[Role.PRODUCT_MANAGER], is_staff=False)}
    official = services.comment_add(idea=IdeaFactory(), author=product_manager, body="We hear you", kind="official")
    response = api_client_for(people[role]).delete(_url(official))
    assert response.status_code == expected
    official.refresh_from_db()
    assert (official.deleted_at is not None) == (expected == 204)


def test_a_deleted_comment_keeps_its_replies_and_hides_body_and_author(site, customer, other_customer):
    idea = IdeaFactory()
    top = services.comment_add(idea=idea, author=customer, body="Secret plan")
    reply = services.comment_add(idea=idea, author=other_customer, body="Nice plan", parent=top)
    services.comment_delete(comment=top, actor=customer)

    listed = {c["id"]: c for c in api_client_for(None).get(f"/api/ideas/{idea.pk}/comments/").json()["results"]}
    assert listed[top.pk]["deleted"] is True
    assert listed[top.pk]["author"] is None
    assert listed[top.pk]["body_html"] == "<p>This comment was deleted</p>"
    assert listed[reply.pk]["body_html"] == "Nice plan"
    assert listed[reply.pk]["author"] == other_customer.public_name

    page = logged_in_client(other_customer).get(idea.get_absolute_url()).content.decode()
    assert "This comment was deleted" in page
    assert "Secret plan" not in page
    assert "Nice plan" in page
    assert page.count(customer.public_name) == 0


def test_deleting_resolves_open_reports_and_twice_changes_nothing(site, customer, other_customer, product_manager):
    comment = CommentFactory(idea=IdeaFactory(), author=customer)
    services.report_create(reporter=other_customer, idea=comment.idea, comment=comment, reason="rude")
    services.comment_delete(comment=comment, actor=product_manager)
    first = comment.deleted_at
    assert Report.objects.get(comment=comment).resolved_by == product_manager
    again = services.comment_delete(comment=comment, actor=product_manager)
    assert again.deleted_at == first
    with pytest.raises(PermissionDeniedError):
        services.comment_delete(comment=comment, actor=other_customer)


def test_an_unknown_comment_or_one_on_another_idea_is_not_found(site, customer):
    comment = CommentFactory(idea=IdeaFactory(), author=customer)
    elsewhere = IdeaFactory()
    client = api_client_for(customer)
    assert client.delete(f"/api/ideas/{elsewhere.pk}/comments/{comment.pk}/").status_code == 404
    assert client.delete(f"/api/ideas/{comment.idea_id}/comments/999999/").status_code == 404
    assert client.patch(f"/api/ideas/{comment.idea_id}/comments/{2**63}/", {"body": "x"}).status_code == 404
    comment.refresh_from_db()
    assert comment.deleted_at is None


def test_the_routes_are_in_the_openapi_schema(site):
    response = api_client_for(None).get("/api/schema/", {"format": "json"})
    operations = response.json()["paths"]["/api/ideas/{id}/comments/{comment_id}/"]
    assert set(operations) >= {"patch", "delete"}


# The web page ----------------------------------------------------------------------------------------------------


def test_the_author_sees_edit_and_delete_and_others_do_not(site, customer, other_customer, product_manager):
    comment = CommentFactory(idea=IdeaFactory(), author=customer)
    edit_url = reverse("ideas:comment_edit", kwargs={"pk": comment.idea_id, "comment_id": comment.pk})
    delete_url = reverse("ideas:comment_delete", kwargs={"pk": comment.idea_id, "comment_id": comment.pk})
    page = comment.idea.get_absolute_url()

    as_author = logged_in_client(customer).get(page).content.decode()
    assert edit_url in as_author
    assert delete_url in as_author
    as_other = logged_in_client(other_customer).get(page).content.decode()
    assert edit_url not in as_other
    assert delete_url not in as_other
    as_pm = logged_in_client(product_manager).get(page).content.decode()
    assert edit_url not in as_pm
    assert delete_url in as_pm

    _age(comment, COMMENT_EDIT_WINDOW + timedelta(minutes=1))
    late = logged_in_client(customer).get(page).content.decode()
    assert edit_url not in late
    assert delete_url in late


def test_editing_on_the_page_shows_edited_and_a_late_edit_is_refused(site, customer):
    comment = CommentFactory(idea=IdeaFactory(), author=customer, body="<p>Frist</p>")
    client = logged_in_client(customer)
    url = reverse("ideas:comment_edit", kwargs={"pk": comment.idea_id, "comment_id": comment.pk})
    response = client.post(url, {"body": "First"}, follow=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "First" in page
    assert "Frist" not in page
    assert 'class="comment-edited"' in page

    _age(comment, COMMENT_EDIT_WINDOW + timedelta(minutes=1))
    response = client.post(url, {"body": "Third"}, follow=True)
    assert "can only be edited in the first 15 minutes" in response.content.decode()
    comment.refresh_from_db()
    assert comment.body == "First"


def test_deleting_on_the_page_needs_the_right_person(site, customer, other_customer):
    comment = CommentFactory(idea=IdeaFactory(), author=customer)
    url = reverse("ideas:comment_delete", kwargs={"pk": comment.idea_id, "comment_id": comment.pk})
    assert logged_in_client(other_customer).post(url).status_code == 403
    comment.refresh_from_db()
    assert comment.deleted_at is None
    response = logged_in_client(customer).post(url)
    assert response.status_code == 302
    assert response["Location"].endswith(f"#comment-{comment.pk}")
    comment.refresh_from_db()
    assert comment.deleted_at is not None
