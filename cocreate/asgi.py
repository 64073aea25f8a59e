"""ASGI entry point: Django for HTTP, Channels for WebSockets (origin checked, then session/token auth)."""

from __future__ import annotations

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cocreate.settings")
django_asgi_app = get_asgi_application()  # must run before anything imports models

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from cocreate.realtime import TokenOrSessionAuthMiddlewareStack  # noqa: E402
from cocreate.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(TokenOrSessionAuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# What loading the project made (about 210,000 objects: modules, classes, URL patterns, Wagtail's blocks) lives as
# long as the process. Frozen, it is left out of the collector's full passes: each one otherwise walked all of it,
# about 130 ms on this project's machine during which the event loop (every socket of the process) stood still,
# and a live room's p99 was one such pause (boards/README.md, "Garbage collection pauses").
gc.freeze()
