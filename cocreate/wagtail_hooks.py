from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet

from cocreate.models import Organisation


class OrganisationViewSet(ModelViewSet):
    model = Organisation
    icon = "group"
    menu_label = _("Organisations")
    menu_order = 900
    add_to_admin_menu = True
    list_display = ["name", "tier", "annual_revenue", "domain"]
    list_filter = ["tier"]
    search_fields = ["name", "domain"]
    form_fields = ["name", "tier", "annual_revenue", "domain"]


@hooks.register("register_admin_viewset")
def register_organisation_viewset() -> OrganisationViewSet:
    return OrganisationViewSet("organisations")
