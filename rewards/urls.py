from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from rewards import views

app_name = "rewards"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.index, name="index"),
    path("agreements/", views.agreement_list, name="agreements"),
    path("agreements/new/", views.agreement_create, name="agreement_create"),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement"),
    path("imports/", views.import_list, name="imports"),
    path("imports/<int:pk>/", views.import_detail, name="import"),
    path("periods/", views.period_list, name="periods"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("statements/", views.statement_list, name="statements"),
    path("statements/<str:period>/<int:agreement>/<int:payee>/", views.statement_detail, name="statement"),
    path("payouts/", views.payout_list, name="payouts"),
    path("payouts/<int:pk>/", views.payout_action, name="payout_action"),
]
