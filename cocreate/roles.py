"""The platform's roles, kept as Django groups so that Wagtail's group admin can manage them.

``ROLE_PERMISSIONS`` is the single source of what each role may do; the ``sync_roles`` migration and
``roles_sync()`` apply it. Code asks ``has_role(user, Role.PRODUCT_MANAGER)`` rather than naming groups.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class Role(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    BOARD_MEMBER = "board_member", _("Board member")
    PRODUCT_MANAGER = "product_manager", _("Product manager")
    FINANCE = "finance", _("Finance")


# Group names are stored in English and translated when shown (the profile page uses {% translate %}).
GROUP_NAMES: dict[Role, str] = {
    Role.CUSTOMER: gettext_noop("Customers"),
    Role.BOARD_MEMBER: gettext_noop("Board members"),
    Role.PRODUCT_MANAGER: gettext_noop("Product managers"),
    Role.FINANCE: gettext_noop("Finance"),
}

# (app_label, codename) pairs; apps add their own permissions here as they grow.
ROLE_PERMISSIONS: dict[Role, list[tuple[str, str]]] = {
    Role.CUSTOMER: [],
    Role.BOARD_MEMBER: [],
    Role.PRODUCT_MANAGER: [
        ("wagtailadmin", "access_admin"),
        ("cocreate", "view_organisation"),
        ("cocreate", "view_user"),
        *[
            ("boards", f"{action}_{model}")
            for model in ("board", "boardmembership", "session", "agendaitem", "preread")
            for action in ("add", "change", "delete", "view")
        ],
        ("wagtaildocs", "add_document"),
        ("wagtaildocs", "choose_document"),
    ],
    Role.FINANCE: [
        ("wagtailadmin", "access_admin"),
        ("cocreate", "view_organisation"),
        ("cocreate", "view_user"),
    ],
}

# Wagtail page permissions (``wagtailcore`` codenames) a role holds on the home page, and so on every page
# below it: product managers create, edit and publish the idea campaigns.
ROLE_PAGE_PERMISSIONS: dict[Role, list[str]] = {
    Role.PRODUCT_MANAGER: ["add_page", "change_page", "publish_page"],
}


def roles_remember(user: AbstractBaseUser | AnonymousUser, names: Iterable[str]) -> None:
    """Keep ``user``'s role (group) names on this user object, for ``has_role``: set by whoever read them with
    the user (the API token authentication) or by ``has_role`` on first use. Only for as long as the object
    lives, one request."""
    user._role_names = frozenset(names)  # type: ignore[union-attr]


def roles_forget(user: AbstractBaseUser | AnonymousUser) -> None:
    """Drop the role names kept on this user object (after its roles changed): ``has_role`` reads them again."""
    user.__dict__.pop("_role_names", None)


def has_role(user: AbstractBaseUser | AnonymousUser, role: Role) -> bool:
    """True for an active user in the role's group; superusers hold every role."""
    if not user.is_authenticated or not user.is_active:
        return False
    if getattr(user, "is_superuser", False):
        return True
    names: frozenset[str] | None = getattr(user, "_role_names", None)
    if names is None:
        names = frozenset(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
        roles_remember(user, names)
    return GROUP_NAMES[role] in names


def is_staff_role(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Product managers, finance and staff: the people who work for the company running cocreate."""
    return (
        bool(getattr(user, "is_staff", False)) or has_role(user, Role.PRODUCT_MANAGER) or has_role(user, Role.FINANCE)
    )
