from __future__ import annotations

from django.urls import URLPattern, path

from boards.consumers import SessionConsumer

websocket_urlpatterns: list[URLPattern] = [
    path("ws/sessions/<int:session_id>/", SessionConsumer.as_asgi()),
]
