"""Shared WebSocket plumbing: authentication by session cookie or API token, and a JSON consumer base
that enforces the message size limit and answers malformed input with an error event instead of crashing.
"""

from __future__ import annotations

import json
from typing import Any

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib.auth.models import AnonymousUser

CLOSE_TOO_BIG = 1009


@database_sync_to_async
def _user_for_token(key: str) -> Any:
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return AnonymousUser()
    return token.user


class TokenAuthMiddleware(BaseMiddleware):
    """Non-browser clients may send ``Authorization: Token <key>`` in the handshake instead of a cookie."""

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        headers = dict(scope.get("headers", []))
        auth = headers.get(b"authorization", b"").decode("latin-1")
        if auth.startswith("Token "):
            scope = {**scope, "user": await _user_for_token(auth[len("Token ") :].strip())}
        return await super().__call__(scope, receive, send)


def TokenOrSessionAuthMiddlewareStack(inner: Any) -> Any:  # noqa: N802 - named like Channels' own stacks
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))


class JsonConsumer(AsyncWebsocketConsumer):
    """Receives JSON objects with a ``type`` and dispatches them to ``handle_<type with . as _>``.

    Subclasses implement handlers; anything malformed gets ``{"type": "error", "code": ..., "message": ...}``.
    """

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        raw = text_data if text_data is not None else (bytes_data or b"").decode("utf-8", "replace")
        if len(raw.encode("utf-8")) > settings.WS_MAX_MESSAGE_BYTES:
            await self.send_error("too_big", f"Messages are limited to {settings.WS_MAX_MESSAGE_BYTES} bytes.")
            await self.close(code=CLOSE_TOO_BIG)
            return
        try:
            message = json.loads(raw)
        except json.JSONDecodeError:
            await self.send_error("malformed", "Messages must be JSON objects.")
            return
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self.send_error("malformed", "Messages must be JSON objects with a string 'type'.")
            return
        handler = getattr(self, "handle_" + message["type"].replace(".", "_"), None)
        if handler is None or message["type"].startswith("_"):
            await self.send_error("unknown_type", f"Unknown message type {message['type'][:40]!r}.")
            return
        await handler(message)

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content, ensure_ascii=False, separators=(",", ":")))

    async def send_error(self, code: str, message: str, **extra: Any) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, **extra})
