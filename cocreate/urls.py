from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

import boards.api
import ideas.api
import rewards.api
from cocreate import page_routes, views
from cocreate.admin import restrict_django_admin_to_superusers
from cocreate.api import TokenView

restrict_django_admin_to_superusers()

api_urlpatterns = [
    path("auth/token/", TokenView.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    *ideas.api.urlpatterns,
    *boards.api.urlpatterns,
    *rewards.api.urlpatterns,
]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("accounts/profile/", views.profile, name="profile"),
    path("accounts/privacy/", include("cocreate.privacy_urls")),
    path("accounts/", include("allauth.urls")),
    path("api/", include(api_urlpatterns)),
    path("cms/", include(wagtailadmin_urls)),
    path("django-admin/", admin.site.urls),
    path("documents/", include(wagtaildocs_urls)),
    path("ideas/", include("ideas.urls")),
    path("boards/", include("boards.urls")),
    path("royalties/", include("rewards.urls")),
    path("insights/", include("cocreate.insights.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Pages are served by Wagtail with their routes kept per process (no tree walk per request), under Wagtail's name
# for its page view (the same pattern, so reversing is unchanged); Wagtail's other URLs follow.
urlpatterns += [
    re_path(wagtail_urls.serve_pattern, page_routes.serve, name="wagtail_serve"),
    path("", include(wagtail_urls)),
]

handler403 = "cocreate.views.permission_denied"
handler404 = "cocreate.views.page_not_found"
handler500 = "cocreate.views.server_error"
