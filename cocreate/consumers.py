from __future__ import annotations

from typing import Any

from cocreate.realtime import JsonConsumer


class PingConsumer(JsonConsumer):
    """``/ws/ping/``: answers ``{"type": "ping"}`` with a pong naming the user; proves the socket stack works."""

    async def connect(self) -> None:
        await self.accept()

    async def handle_ping(self, message: dict[str, Any]) -> None:
        user = self.scope.get("user")
        await self.send_json(
            {
                "type": "pong",
                "user": user.email if user is not None and user.is_authenticated else None,
                "echo": message.get("echo"),
            }
        )
