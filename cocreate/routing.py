"""Every WebSocket route of the platform, so the ASGI router and the authorisation matrix see one list."""

from __future__ import annotations

from django.urls import path

from boards.routing import websocket_urlpatterns as board_routes
from cocreate.consumers import PingConsumer
from ideas.routing import websocket_urlpatterns as idea_routes

websocket_urlpatterns = [
    path("ws/ping/", PingConsumer.as_asgi()),
    *board_routes,
    *idea_routes,
]
