"""The Wagtail admin's "Royalties" menu for finance: links into the royalty pages (imports, runs with progress,
statements, payouts). Agreements and the ledger are not Wagtail model views on purpose: terms are versioned and
postings append-only, so every change must go through the services, which the pages call."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem

from rewards.selectors import is_finance


class FinanceMenuItem(MenuItem):
    def is_shown(self, request: HttpRequest) -> bool:
        return is_finance(request.user)


ITEMS = [
    (_("Dashboard"), "rewards:index", "doc-full", 100),
    (_("Agreements"), "rewards:agreements", "form", 200),
    (_("Sales imports"), "rewards:imports", "upload", 300),
    (_("Periods & runs"), "rewards:periods", "date", 400),
    (_("Statements"), "rewards:statements", "list-ul", 500),
    (_("Payouts"), "rewards:payouts", "tick", 600),
]


royalties_menu = Menu(
    items=[
        FinanceMenuItem(
            label, reverse_lazy(url_name), name=f"royalties-{url_name.split(':')[1]}", icon_name=icon, order=order
        )
        for label, url_name, icon, order in ITEMS
    ]
)


@hooks.register("register_admin_menu_item")
def register_royalties_menu() -> Any:
    return SubmenuMenuItem(_("Royalties"), royalties_menu, icon_name="pick", name="royalties", order=950)
