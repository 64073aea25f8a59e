"""The Django admin is for superusers only; product managers and finance work in Wagtail's admin at /cms/."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from cocreate.models import Organisation, User


def restrict_django_admin_to_superusers() -> None:
    def has_permission(request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    admin.site.has_permission = has_permission  # type: ignore[method-assign]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin[Organisation]):
    list_display = ["name", "tier", "annual_revenue", "domain"]
    list_filter = ["tier"]
    search_fields = ["name", "domain"]


@admin.register(User)
class CocreateUserAdmin(UserAdmin[User]):
    list_display = ["email", "display_name", "organisation", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups", "organisation__tier"]
    search_fields = ["email", "display_name"]
    ordering = ["email"]
    fieldsets = (
        *UserAdmin.fieldsets,  # type: ignore[misc]
        ("cocreate", {"fields": ("display_name", "organisation", "job_title", "preferred_language")}),
    )
