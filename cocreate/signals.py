"""Keep roles, the site tree and the ideas' search index in place after every ``migrate`` (and after a test
database flush)."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig, apps


def after_migrate(sender: AppConfig, **kwargs: Any) -> None:
    # post_migrate is sent once per app that has a models module, in INSTALLED_APPS order; by the
    # last of them every app's permissions exist, so act only then.
    last = [config for config in apps.get_app_configs() if config.models_module is not None][-1]
    if sender.label != last.label:
        return
    from cocreate.services import roles_sync, site_ensure
    from ideas.services import ideas_search_index_sync

    site_ensure()  # first: roles_sync gives page permissions on the home page
    roles_sync()
    ideas_search_index_sync()
