from __future__ import annotations

from django.urls import path

from cocreate.insights import views

app_name = "insights"

urlpatterns = [
    path("", views.index, name="index"),
    path("export/<slug:key>.csv", views.export_csv, name="export"),
    path("survey/<str:token>/", views.survey, name="survey"),
]
