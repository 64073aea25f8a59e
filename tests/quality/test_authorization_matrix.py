"""Every route of the platform, for every role, answers with the status this table says.

The table is the specification: a route that appears in the URL configuration without an entry here fails
``test_every_route_has_an_entry`` by name, so a new view cannot ship without someone deciding who may use it.

Roles, in table order: anonymous, customer (the idea's creator and the royalty payee), outside_member (member of
another board), member (of the session's board, charter accepted), product_manager, finance, staff (superuser).

Codes: ``login`` = 302 to the login page, ``302`` = any other redirect, otherwise the HTTP status.

Covered by a sample instead of exhaustively (they belong to the frameworks, whose own tests cover them):
Wagtail admin under ``/cms/`` (sampled: the dashboard), the Django admin under ``/django-admin/`` (sampled: the
index), allauth under ``/accounts/`` (sampled: login and signup; the platform's own profile and privacy pages there are
in the table), ``/i18n/setlang/`` and ``/jsi18n/``, the
Wagtail document and page-privacy helpers, and ``/media/`` (served only with DEBUG).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from rest_framework.authtoken.models import Token

from cocreate.asgi import application
from cocreate.routing import websocket_urlpatterns
from ideas.models import Comment
from tests.quality.world import ROLES, World, world_build

ANY = ("anonymous", "customer", "outside_member", "member", "product_manager", "finance", "staff")
SAMPLED_PREFIXES = ("cms/", "django-admin/", "accounts/", "i18n/", "jsi18n/", "documents/", "_util/", "^media/")

# Under /accounts/ these are the platform's own pages (the rest is allauth's).
OWN_ACCOUNT_PAGES = ("accounts/profile/", "accounts/privacy/")

UrlFor = Callable[[World], str]


def _r(name: str, **kwargs: Callable[[World], Any]) -> UrlFor:
    return lambda w: reverse(name, kwargs={key: value(w) for key, value in kwargs.items()})


IDEA = {"pk": lambda w: w.idea.pk}
# The world's one comment, written by the board member a moment ago (so still inside its edit window).
COMMENT = {"pk": lambda w: w.idea.pk, "comment_id": lambda w: Comment.objects.get(idea=w.idea).pk}
BOARD = {"pk": lambda w: w.board.pk}
SESSION = {"pk": lambda w: w.session.pk}
STATEMENT = {
    "period": lambda w: w.period,
    "agreement": lambda w: w.agreement.pk,
    "payee": lambda w: w.users["customer"].pk,
}

# key: (url builder, "anonymous customer outside_member member product_manager finance staff")
GET_MATRIX: dict[str, tuple[UrlFor, str]] = {
    "healthz": (_r("healthz"), "200 200 200 200 200 200 200"),
    "wagtail_serve": (lambda w: w.campaign.url, "200 200 200 200 200 200 200"),
    "profile": (_r("profile"), "login 200 200 200 200 200 200"),
    "privacy:index": (_r("privacy:index"), "login 200 200 200 200 200 200"),
    "privacy:export": (_r("privacy:export"), "login 200 200 200 200 200 200"),
    "privacy:delete": (_r("privacy:delete"), "login 200 200 200 200 200 200"),
    # ideas pages
    "ideas:index": (_r("ideas:index"), "302 302 302 302 302 302 302"),
    "ideas:submit": (_r("ideas:submit", campaign_id=lambda w: w.campaign.pk), "login 200 200 200 200 403 200"),
    "ideas:mine": (_r("ideas:mine"), "login 200 200 200 200 200 200"),
    "ideas:supported": (_r("ideas:supported"), "login 200 200 200 200 200 200"),
    "ideas:notifications": (_r("ideas:notifications"), "login 200 200 200 200 200 200"),
    "ideas:export": (_r("ideas:export"), "login 403 403 403 200 403 200"),
    "ideas:detail": (_r("ideas:detail", **IDEA), "200 200 200 200 200 200 200"),
    "ideas:resubmit": (_r("ideas:resubmit", **IDEA), "login 200 403 403 403 403 403"),
    "ideas:comment": (_r("ideas:comment", **IDEA), "405 405 405 405 405 405 405"),
    "ideas:comment_edit": (_r("ideas:comment_edit", **COMMENT), "405 405 405 405 405 405 405"),
    "ideas:comment_delete": (_r("ideas:comment_delete", **COMMENT), "405 405 405 405 405 405 405"),
    "ideas:follow": (_r("ideas:follow", **IDEA), "405 405 405 405 405 405 405"),
    "ideas:report": (_r("ideas:report", **IDEA), "405 405 405 405 405 405 405"),
    "ideas:invitation": (_r("ideas:invitation", **IDEA), "405 405 405 405 405 405 405"),
    "ideas:demand": (_r("ideas:demand", **IDEA), "login 403 403 403 200 403 200"),
    "ideas:triage": (_r("ideas:triage", **IDEA), "405 405 405 405 405 405 405"),
    "ideas:merge": (_r("ideas:merge", **IDEA), "405 405 405 405 405 405 405"),
    "ideas:unmerge": (_r("ideas:unmerge", pk=lambda w: 1), "405 405 405 405 405 405 405"),
    "ideas:demand_overview": (_r("ideas:demand_overview"), "login 403 403 403 200 200 200"),
    # insights
    "insights:index": (_r("insights:index"), "login 403 403 403 200 200 200"),
    "insights:export": (_r("insights:export", key=lambda w: "funnel"), "login 403 403 403 200 200 200"),
    "insights:survey": (_r("insights:survey", token=lambda w: "not-a-signed-token"), "404 404 404 404 404 404 404"),
    # boards pages
    "boards:index": (_r("boards:index"), "login 200 200 200 200 200 200"),
    "boards:board": (_r("boards:board", **BOARD), "login 403 403 200 200 403 200"),
    "boards:charter_accept": (_r("boards:charter_accept", **BOARD), "login 405 405 405 405 405 405"),
    "boards:action_item_status": (_r("boards:action_item_status", pk=lambda w: 1), "login 405 405 405 405 405 405"),
    "boards:nps_report": (_r("boards:nps_report", **BOARD), "login 403 403 403 200 403 200"),
    "boards:session": (_r("boards:session", **SESSION), "login 403 403 200 200 403 200"),
    "boards:session_ics": (_r("boards:session_ics", **SESSION), "login 403 403 200 200 403 200"),
    "boards:live": (_r("boards:live", **SESSION), "login 403 403 200 200 403 200"),
    "boards:minutes": (_r("boards:minutes", **SESSION), "login 403 403 404 200 403 200"),
    "boards:minutes_pdf": (_r("boards:minutes_pdf", **SESSION), "login 403 403 404 200 403 200"),
    "boards:nps": (_r("boards:nps", **SESSION), "login 403 403 200 302 403 302"),
    "boards:pre_read": (_r("boards:pre_read", pk=lambda w: w.pre_read.pk), "login 403 403 200 200 403 200"),
    "boards:pre_read_ack": (_r("boards:pre_read_ack", pk=lambda w: w.pre_read.pk), "login 405 405 405 405 405 405"),
    # royalty pages
    "rewards:index": (_r("rewards:index"), "login 302 302 302 302 200 200"),
    "rewards:agreements": (_r("rewards:agreements"), "login 403 403 403 403 200 200"),
    "rewards:agreement_create": (_r("rewards:agreement_create"), "login 403 403 403 403 200 200"),
    "rewards:agreement": (_r("rewards:agreement", pk=lambda w: w.agreement.pk), "login 200 404 404 404 200 200"),
    "rewards:imports": (_r("rewards:imports"), "login 403 403 403 403 200 200"),
    "rewards:import": (_r("rewards:import", pk=lambda w: w.sales_import.pk), "login 403 403 403 403 200 200"),
    "rewards:periods": (_r("rewards:periods"), "login 403 403 403 403 200 200"),
    "rewards:run": (_r("rewards:run", pk=lambda w: w.run.pk), "login 403 403 403 403 200 200"),
    "rewards:statements": (_r("rewards:statements"), "login 200 200 200 200 200 200"),
    "rewards:statement": (_r("rewards:statement", **STATEMENT), "login 200 403 403 403 200 200"),
    "rewards:payouts": (_r("rewards:payouts"), "login 403 403 403 403 200 200"),
    "rewards:payout_action": (_r("rewards:payout_action", pk=lambda w: w.payout.pk), "405 405 405 405 405 405 405"),
    # REST API
    "api-token": (_r("api-token"), "405 405 405 405 405 405 405"),
    "api-schema": (_r("api-schema"), "200 200 200 200 200 200 200"),
    "api-docs": (_r("api-docs"), "200 200 200 200 200 200 200"),
    "api-ideas": (_r("api-ideas"), "200 200 200 200 200 200 200"),
    "api-ideas-similar": (lambda w: reverse("api-ideas-similar") + "?title=lantern", "200 200 200 200 200 200 200"),
    "api-idea": (_r("api-idea", **IDEA), "200 200 200 200 200 200 200"),
    "api-idea-support": (_r("api-idea-support", **IDEA), "403 405 405 405 405 405 405"),
    "api-idea-comments": (_r("api-idea-comments", **IDEA), "200 200 200 200 200 200 200"),
    "api-idea-comment": (_r("api-idea-comment", **COMMENT), "403 405 405 405 405 405 405"),
    "api-idea-moderate": (_r("api-idea-moderate", **IDEA), "403 405 405 405 405 405 405"),
    "api-idea-status": (_r("api-idea-status", **IDEA), "403 405 405 405 405 405 405"),
    "api-campaigns": (_r("api-campaigns"), "200 200 200 200 200 200 200"),
    "api-boards": (_r("api-boards"), "403 200 200 200 200 200 200"),
    "api-board-members": (_r("api-board-members", **BOARD), "403 405 405 405 405 405 405"),
    "api-board-member": (
        _r("api-board-member", pk=lambda w: w.board.pk, user_id=lambda w: w.users["member"].pk),
        "403 405 405 405 405 405 405",
    ),
    "api-board-charter-accept": (_r("api-board-charter-accept", **BOARD), "403 405 405 405 405 405 405"),
    "api-sessions": (_r("api-sessions"), "403 200 200 200 200 200 200"),
    "api-session": (_r("api-session", **SESSION), "403 403 403 200 200 403 200"),
    "api-session-events": (_r("api-session-events", **SESSION), "403 403 403 200 200 403 200"),
    "royalties-agreements": (_r("royalties-agreements"), "403 403 403 403 403 200 200"),
    "royalties-sales-imports": (_r("royalties-sales-imports"), "403 403 403 403 403 405 405"),
    "royalties-sales-import": (
        _r("royalties-sales-import", pk=lambda w: w.sales_import.pk),
        "403 403 403 403 403 200 200",
    ),
    "royalties-fx-rates": (_r("royalties-fx-rates"), "403 403 403 403 403 405 405"),
    "royalties-runs": (_r("royalties-runs"), "403 403 403 403 403 405 405"),
    "royalties-run": (_r("royalties-run", pk=lambda w: w.run.pk), "403 403 403 403 403 200 200"),
    "royalties-period-close": (_r("royalties-period-close", period=lambda w: w.period), "403 403 403 403 403 405 405"),
    "royalties-statements": (_r("royalties-statements"), "403 400 400 400 400 400 400"),
}

Body = Callable[[World], dict[str, Any]]


def _empty(w: World) -> dict[str, Any]:
    return {}


# State-changing routes, POSTed once per role (in a world of its own): an empty body shows who gets past the door
# (400 = authorised but the body was empty), a valid body where the service, not the view, decides.
POST_MATRIX: dict[str, tuple[Body, str]] = {
    "ideas:comment": (_empty, "login 302 302 302 302 302 302"),
    # Only the author edits (the empty body then comes back as an error message); the author or a product
    # manager deletes; finance and outsiders may do neither.
    "ideas:comment_edit": (_empty, "login 403 403 302 403 403 403"),
    "ideas:comment_delete": (_empty, "login 403 403 302 302 403 302"),
    "ideas:follow": (_empty, "login 302 302 302 302 302 302"),
    "ideas:report": (_empty, "login 302 302 302 302 302 302"),
    "ideas:invitation": (_empty, "login 404 404 404 404 404 404"),
    "ideas:triage": (_empty, "login 403 403 403 302 403 302"),
    "boards:charter_accept": (_empty, "login 403 403 302 302 403 302"),
    "boards:pre_read_ack": (_empty, "login 403 403 302 302 403 302"),
    "rewards:payout_action": (_empty, "login 403 403 403 403 302 302"),
    "api-token": (_empty, "400 400 400 400 400 400 400"),
    "api-idea-support": (_empty, "403 201 201 201 201 403 201"),
    "api-idea-comments": (_empty, "403 400 400 400 400 400 400"),
    "api-idea-moderate": (lambda w: {"decision": "reject", "reason": "no"}, "403 403 403 403 409 403 409"),
    "api-idea-status": (lambda w: {"status": "in_review"}, "403 403 403 403 200 403 200"),
    "api-board-members": (_empty, "403 403 403 403 400 403 400"),
    "api-board-charter-accept": (_empty, "403 403 403 200 403 403 403"),
    "api-sessions": (
        lambda w: {"board": w.board.pk, "title": "Extra session", "starts_at": "2030-01-01T10:00:00Z"},
        "403 403 403 403 201 403 201",
    ),
    "royalties-agreements": (_empty, "403 403 403 403 403 400 400"),
    "royalties-sales-imports": (_empty, "403 403 403 403 403 415 415"),
    "royalties-fx-rates": (_empty, "403 403 403 403 403 400 400"),
    "royalties-runs": (_empty, "403 403 403 403 403 400 400"),
    "royalties-period-close": (_empty, "403 403 403 403 403 200 200"),
    "privacy:delete": (lambda w: {"email": "not-mine@example.com"}, "login 400 400 400 400 400 400"),
}

# Routes answering other methods: (key, method, body, row), sent in this order before the POSTs above. The edit
# comes first, as a deletion ends the comment's editable life (deleting again is allowed and changes nothing).
OTHER_METHODS: list[tuple[str, str, Body, str]] = [
    ("api-idea-comment", "PATCH", lambda w: {"body": "Edited"}, "403 403 403 200 403 403 403"),
    ("api-idea-comment", "DELETE", _empty, "403 403 403 204 204 403 204"),
]

SAMPLES: dict[str, tuple[str, str]] = {
    "/cms/": ("GET", "302 302 302 302 200 200 200"),
    "/django-admin/": ("GET", "302 302 302 302 302 302 200"),
    "/accounts/login/": ("GET", "200 302 302 302 302 302 302"),
    "/accounts/signup/": ("GET", "200 302 302 302 302 302 302"),
    "/jsi18n/": ("GET", "200 200 200 200 200 200 200"),
}

# WebSocket routes: "ok" = accepted, otherwise the close code.
SOCKET_MATRIX: dict[str, tuple[Callable[[World], str], str]] = {
    "ws/ping/": (lambda w: "/ws/ping/", "ok ok ok ok ok ok ok"),
    "ws/sessions/<int:session_id>/": (
        lambda w: f"/ws/sessions/{w.session.pk}/",
        "4401 4403 4403 ok ok 4403 ok",
    ),
    "ws/notifications/": (lambda w: "/ws/notifications/", "4401 ok ok ok ok ok ok"),
}


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str | None]]:
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), (namespace + pattern.name) if pattern.name else None


def routes() -> list[tuple[str, str]]:
    """(pattern, key) for every route outside the sampled prefixes; the key is the URL name, or the pattern."""
    found = []
    for pattern, name in _walk(get_resolver()):
        if pattern.startswith(SAMPLED_PREFIXES) and not pattern.startswith(OWN_ACCOUNT_PAGES):
            continue
        found.append((pattern, name or pattern))
    return found


def code(response: Any) -> str:
    if response.status_code == 302 and "/accounts/login/" in response["Location"]:
        return "login"
    return str(response.status_code)


def expected_for(row: str, role: str) -> str:
    return row.split()[ROLES.index(role)]


@pytest.fixture
def world(db: None) -> World:
    return world_build()


def test_every_route_has_an_entry() -> None:
    missing = [f"{key} ({pattern})" for pattern, key in routes() if key not in GET_MATRIX]
    assert not missing, "routes without an entry in the authorization matrix: " + ", ".join(missing)
    socket_missing = [str(p.pattern) for p in websocket_urlpatterns if str(p.pattern) not in SOCKET_MATRIX]
    assert not socket_missing, "WebSocket routes without an entry: " + ", ".join(socket_missing)


def test_the_matrix_has_no_stale_entries() -> None:
    known = {key for _pattern, key in routes()}
    assert not set(GET_MATRIX) - known, f"entries for routes that no longer exist: {set(GET_MATRIX) - known}"


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_each_role_as_the_table_says(world: World, role: str) -> None:
    client = world.client(role)
    wrong = []
    for key, (url_for, row) in GET_MATRIX.items():
        url = url_for(world)
        got = code(client.get(url))
        if got != expected_for(row, role):
            wrong.append(f"GET {key} {url}: expected {expected_for(row, role)}, got {got}")
    for key, method, body, row in OTHER_METHODS:
        url = GET_MATRIX[key][0](world)
        got = code(client.generic(method, url, json.dumps(body(world)), content_type="application/json"))
        if got != expected_for(row, role):
            wrong.append(f"{method} {key} {url}: expected {expected_for(row, role)}, got {got}")
    for key, (body, row) in POST_MATRIX.items():
        url = GET_MATRIX[key][0](world)
        if key.startswith(("api-", "royalties-")):
            response = client.post(url, body(world), content_type="application/json")
        else:
            response = client.post(url, body(world))
        got = code(response)
        if got != expected_for(row, role):
            wrong.append(f"POST {key} {url}: expected {expected_for(row, role)}, got {got}")
    for url, (method, row) in SAMPLES.items():
        got = code(client.generic(method, url))
        if got != expected_for(row, role):
            wrong.append(f"{method} {url}: expected {expected_for(row, role)}, got {got}")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


async def _socket_outcome(path: str, user_token: str | None) -> str:
    headers = [(b"origin", b"http://testserver")]
    if user_token:
        headers.append((b"authorization", f"Token {user_token}".encode()))
    comm = WebsocketCommunicator(application, path, headers=headers)
    connected, close = await comm.connect()
    if not connected:
        return str(close)
    if await comm.receive_nothing(timeout=0.5):
        await comm.disconnect()
        return "ok"
    message = await comm.receive_output(timeout=2)
    if message["type"] == "websocket.close":
        await comm.wait()
        return str(message["code"])
    await comm.disconnect()
    return "ok"


@pytest.mark.django_db(transaction=True)
async def test_every_socket_route_answers_each_role_as_the_table_says() -> None:
    world = await sync_to_async(world_build)()
    wrong = []
    for role in ROLES:
        user = world.users[role]
        token = (await sync_to_async(Token.objects.get_or_create)(user=user))[0].key if user else None
        for pattern, (path_for, row) in SOCKET_MATRIX.items():
            got = await _socket_outcome(path_for(world), token)
            if got != expected_for(row, role):
                wrong.append(f"{role} {pattern}: expected {expected_for(row, role)}, got {got}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("role", ["anonymous", "customer", "outside_member", "finance"])
def test_lists_that_answer_200_do_not_leak_what_the_role_may_not_open(world: World, role: str) -> None:
    client = world.client(role)
    for url, private_id in [("/api/boards/", world.board.pk), ("/api/sessions/", world.session.pk)]:
        response = client.get(url)
        if response.status_code != 200:
            continue
        ids = [row["id"] for row in response.json()["results"]]
        assert private_id not in ids, f"{role} sees {url} item {private_id}"
    statements = client.get("/royalties/statements/")
    if statements.status_code == 200 and role in ("anonymous", "outside_member"):
        assert world.agreement.title not in statements.content.decode()
