from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from boards import views

app_name = "boards"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.board_detail, name="board"),
    path("<int:pk>/charter/", views.charter_accept, name="charter_accept"),
    path("<int:pk>/nps/", views.nps_report, name="nps_report"),
    path("sessions/<int:pk>/", views.session_detail, name="session"),
    path("sessions/<int:pk>/calendar.ics", views.session_ics, name="session_ics"),
    path("sessions/<int:pk>/live/", views.live_room, name="live"),
    path("sessions/<int:pk>/minutes/", views.minutes, name="minutes"),
    path("sessions/<int:pk>/minutes.pdf", views.minutes_download, name="minutes_pdf"),
    path("sessions/<int:pk>/survey/", views.nps_survey, name="nps"),
    path("action-items/<int:pk>/status/", views.action_item_status, name="action_item_status"),
    path("pre-reads/<int:pk>/", views.pre_read_download, name="pre_read"),
    path("pre-reads/<int:pk>/read/", views.pre_read_acknowledge, name="pre_read_ack"),
]
