"""Writes that belong to the shared core: onboarding users, roles and organisations."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from cocreate.models import HomePage, Organisation, User
from cocreate.roles import GROUP_NAMES, ROLE_PAGE_PERMISSIONS, ROLE_PERMISSIONS, Role, roles_forget


def roles_sync() -> None:
    """Create the role groups and give each exactly the permissions ``ROLE_PERMISSIONS`` lists.

    Page permissions from ``ROLE_PAGE_PERMISSIONS`` are set on the home page once it exists.

    Idempotent; run by a migration and by ``seed_demo``. Permissions that do not exist yet (an app not
    migrated) are skipped and picked up on the next run.
    """
    from wagtail.models import GroupPagePermission

    home = HomePage.objects.first()
    for role, group_name in GROUP_NAMES.items():
        group, _ = Group.objects.get_or_create(name=group_name)
        wanted = [
            perm
            for app_label, codename in ROLE_PERMISSIONS[role]
            for perm in Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        ]
        group.permissions.set(wanted)
        if home is None:
            continue
        on_pages = Permission.objects.filter(
            content_type__app_label="wagtailcore", codename__in=ROLE_PAGE_PERMISSIONS.get(role, [])
        )
        GroupPagePermission.objects.filter(group=group, page=home).exclude(permission__in=on_pages).delete()
        for permission in on_pages:
            GroupPagePermission.objects.get_or_create(group=group, page=home, permission=permission)


def role_grant(*, user: User, role: Role) -> None:
    group, _ = Group.objects.get_or_create(name=GROUP_NAMES[role])
    user.groups.add(group)
    roles_forget(user)


def organisation_for_email(email: str) -> Organisation | None:
    domain = email.rsplit("@", 1)[-1].lower()
    return Organisation.objects.filter(domain__iexact=domain).first()


@transaction.atomic
def user_onboard(*, user: User) -> None:
    """A new account is a customer, and joins the organisation that owns its e-mail domain."""
    if user.organisation_id is None:
        organisation = organisation_for_email(user.email)
        if organisation is not None:
            user.organisation = organisation
            user.save(update_fields=["organisation"])
    role_grant(user=user, role=Role.CUSTOMER)


@transaction.atomic
def site_ensure() -> HomePage:
    """Make sure the Wagtail tree has a locale, a root, our home page and a default site pointing at it.

    Wagtail's own migration makes a placeholder "Welcome" page; this replaces it. Runs after every
    migrate (and after a test database flush), so it must be cheap when all is in place.
    """
    from wagtail.models import Collection, Locale, Page, Site

    # Documents and images need the root collection (made by Wagtail's migration, gone after a test flush).
    if not Collection.objects.filter(depth=1).exists():
        Collection.add_root(name="Root")

    home = HomePage.objects.first()
    site = Site.objects.filter(is_default_site=True).first()
    if home is not None and site is not None and site.root_page_id == home.pk:
        return home

    locale, _ = Locale.objects.get_or_create(language_code="en")
    root = Page.objects.filter(depth=1).first() or Page.add_root(title="Root", slug="root", locale=locale)
    if home is None:
        home = HomePage(title="cocreate", slug="home", locale=locale)
        for placeholder in root.get_children().filter(slug="home"):
            placeholder.slug = f"old-home-{placeholder.pk}"
            placeholder.save(update_fields=["slug", "url_path"])
        root.add_child(instance=home)
    if site is None:
        Site.objects.create(hostname="localhost", port=80, root_page=home, is_default_site=True, site_name="cocreate")
    else:
        site.root_page = home
        site.save(update_fields=["root_page"])
    # Wagtail's placeholder "Welcome" page is a plain Page: remove it once ours is in place.
    Page.objects.filter(depth=2, content_type__model="page", content_type__app_label="wagtailcore").delete()
    return home
