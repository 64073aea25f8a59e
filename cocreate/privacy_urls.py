from __future__ import annotations

from django.urls import URLPattern, path

from cocreate import privacy_views

app_name = "privacy"

urlpatterns: list[URLPattern] = [
    path("", privacy_views.index, name="index"),
    path("export.json", privacy_views.export, name="export"),
    path("delete/", privacy_views.delete, name="delete"),
]
