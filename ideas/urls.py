from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from ideas import views

app_name = "ideas"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("submit/<int:campaign_id>/", views.submit, name="submit"),
    path("mine/", views.my_ideas, name="mine"),
    path("supported/", views.supported_ideas, name="supported"),
    path("notifications/", views.notifications, name="notifications"),
    path("export.csv", views.export_csv, name="export"),
    path("demand/", views.demand_overview, name="demand_overview"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.resubmit, name="resubmit"),
    path("<int:pk>/comment/", views.comment, name="comment"),
    path("<int:pk>/comments/<int:comment_id>/edit/", views.comment_edit, name="comment_edit"),
    path("<int:pk>/comments/<int:comment_id>/delete/", views.comment_delete, name="comment_delete"),
    path("<int:pk>/follow/", views.follow, name="follow"),
    path("<int:pk>/report/", views.report, name="report"),
    path("<int:pk>/invitation/", views.invitation, name="invitation"),
    path("<int:pk>/demand/", views.demand, name="demand"),
    path("<int:pk>/triage/", views.triage, name="triage"),
    path("<int:pk>/merge/", views.merge, name="merge"),
    path("merges/<int:pk>/undo/", views.unmerge, name="unmerge"),
]
