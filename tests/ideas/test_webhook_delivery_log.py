from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse

from ideas.models import WebhookDelivery, WebhookEndpoint
from ideas.tasks import deliver_webhook
from ideas.webhooks import WebhookRetryError, webhook_deliver
from tests.conftest import logged_in_client

pytestmark = pytest.mark.django_db


class Receiver(BaseHTTPRequestHandler):
    """Answers POST /ok with 200, /gone with 410 and anything else with 503; remembers what it was sent."""

    received: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, body))
        code = {"/ok": 200, "/gone": 410}.get(self.path, 503)
        self.send_response(code)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _endpoint(url: str) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(url=url, secret="s", events=["comment.created"])


BODY = json.dumps({"event": "comment.created", "data": {"idea": 1}})


def test_a_successful_delivery_is_logged(receiver):
    endpoint = _endpoint(f"{receiver}/ok")
    assert deliver_webhook(endpoint_id=endpoint.pk, event="comment.created", body=BODY) == 200
    assert Receiver.received == [("/ok", BODY.encode())]
    delivery = WebhookDelivery.objects.get()
    assert delivery.endpoint == endpoint
    assert delivery.url == f"{receiver}/ok"
    assert delivery.event == "comment.created"
    assert delivery.attempt == 1
    assert delivery.status_code == 200
    assert delivery.succeeded is True
    assert delivery.error == ""
    assert 0 <= delivery.duration_ms < 10_000


def test_a_5xx_answer_is_logged_as_a_failure_and_retried(receiver):
    endpoint = _endpoint(f"{receiver}/broken")
    with pytest.raises(WebhookRetryError):
        webhook_deliver(endpoint=endpoint, event="comment.created", body=BODY, attempt=3)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.attempt, delivery.status_code, delivery.succeeded) == (3, 503, False)
    assert delivery.error.startswith("HTTP 503")


def test_a_4xx_answer_is_logged_and_not_retried(receiver):
    endpoint = _endpoint(f"{receiver}/gone")
    delivery = webhook_deliver(endpoint=endpoint, event="comment.created", body=BODY, attempt=1)
    assert (delivery.status_code, delivery.succeeded) == (410, False)
    assert "410" in delivery.error


def test_an_unreachable_receiver_is_logged_with_the_error_and_no_status(receiver):
    # Nothing listens on the port once the server is gone.
    endpoint = _endpoint(f"{receiver}/ok")
    port_free = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    url = f"http://127.0.0.1:{port_free.server_address[1]}/ok"
    port_free.server_close()
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=url)
    endpoint.refresh_from_db()
    with pytest.raises(WebhookRetryError):
        webhook_deliver(endpoint=endpoint, event="comment.created", body=BODY, attempt=2)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status_code is None
    assert delivery.succeeded is False
    assert "refused" in delivery.error.lower()


def test_the_log_outlives_its_endpoint(receiver):
    endpoint = _endpoint(f"{receiver}/ok")
    webhook_deliver(endpoint=endpoint, event="comment.created", body=BODY, attempt=1)
    endpoint.delete()
    delivery = WebhookDelivery.objects.get()
    assert delivery.endpoint is None
    assert delivery.url == f"{receiver}/ok"


def test_staff_read_the_log_in_the_admin_filtered_and_nobody_edits_it(
    site, receiver, product_manager, finance, superuser, customer
):
    webhook_deliver(endpoint=_endpoint(f"{receiver}/ok"), event="comment.created", body=BODY, attempt=1)
    webhook_deliver(endpoint=_endpoint(f"{receiver}/gone"), event="idea.created", body=BODY, attempt=1)
    index = reverse("idea_webhook_deliveries:index")
    for user in (product_manager, finance, superuser):
        client = logged_in_client(user)
        page = client.get(index)
        assert page.status_code == 200
        assert "/gone" in page.content.decode()
        filtered = client.get(index, {"event": "comment.created"}).content.decode()
        assert "/ok" in filtered
        assert "/gone" not in filtered
        failed = client.get(index, {"succeeded": "false"}).content.decode()
        assert "/gone" in failed
        assert "/ok" not in failed
        assert client.get(reverse("idea_webhook_deliveries:add")).status_code in {302, 403}
        delivery = WebhookDelivery.objects.first()
        assert delivery is not None
        assert client.get(reverse("idea_webhook_deliveries:edit", args=[delivery.pk])).status_code in {302, 403}
    assert logged_in_client(customer).get(index).status_code == 302
    assert WebhookDelivery.objects.count() == 2
