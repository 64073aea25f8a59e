"""Demo data for the shared core: organisations of each tier, one user per role, content pages.

Each app adds its own demo data in ``<app>/demo.py`` with ``seed_demo(*, people: DemoPeople) -> list[str]``
(returning lines to print); ``manage.py seed_demo`` runs them in order. Every seeder is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.db import transaction

from cocreate.models import ContentPage, HomePage, Organisation, SiteSettings, User
from cocreate.roles import Role
from cocreate.services import role_grant, roles_sync, site_ensure

DEMO_PASSWORD = "cocreate-demo-2026"  # noqa: S105 - printed for everyone; demo accounts only

ORGANISATIONS = [
    ("Northwind Logistics", Organisation.Tier.GOLD, Decimal("4200000.00"), "northwind.example"),
    ("Contoso Manufacturing", Organisation.Tier.GOLD, Decimal("3100000.00"), "contoso.example"),
    ("Fabrikam Retail", Organisation.Tier.SILVER, Decimal("950000.00"), "fabrikam.example"),
    ("Tailspin Health", Organisation.Tier.SILVER, Decimal("720000.00"), "tailspin.example"),
    ("Woodgrove Foods", Organisation.Tier.BRONZE, Decimal("180000.00"), "woodgrove.example"),
]


@dataclass(frozen=True)
class DemoPeople:
    customer: User
    customer2: User
    board_member: User
    board_member2: User
    product_manager: User
    finance: User
    admin: User
    organisations: list[Organisation]


# (attribute, e-mail, display name, organisation index or None, roles, is_staff, is_superuser)
PEOPLE = [
    ("customer", "customer@example.com", "Chen Wei", 0, [Role.CUSTOMER], False, False),
    ("customer2", "customer2@example.com", "Maria Santos", 2, [Role.CUSTOMER], False, False),
    ("board_member", "board@example.com", "Li Na", 1, [Role.CUSTOMER, Role.BOARD_MEMBER], False, False),
    ("board_member2", "board2@example.com", "James Wright", 3, [Role.CUSTOMER, Role.BOARD_MEMBER], False, False),
    ("product_manager", "pm@example.com", "Priya Patel", None, [Role.PRODUCT_MANAGER], True, False),
    ("finance", "finance@example.com", "Tom Becker", None, [Role.FINANCE], True, False),
    ("admin", "admin@example.com", "Site Admin", None, [], True, True),
]


def demo_user(
    *,
    email: str,
    name: str,
    organisation: Organisation | None,
    roles: list[Role],
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    """Create the user once with the demo password and a verified address; later runs change nothing."""
    user = User.objects.filter(email=email).first()
    if user is None:
        user = User.objects.create_user(
            email=email,
            password=DEMO_PASSWORD,
            display_name=name,
            organisation=organisation,
            is_staff=is_staff,
            is_superuser=is_superuser,
        )
    EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
    for role in roles:
        role_grant(user=user, role=role)
    return user


@transaction.atomic
def seed_core() -> DemoPeople:
    roles_sync()
    home = site_ensure()
    organisations = [
        Organisation.objects.get_or_create(
            name=name, defaults={"tier": tier, "annual_revenue": revenue, "domain": domain}
        )[0]
        for name, tier, revenue, domain in ORGANISATIONS
    ]
    people = {
        attribute: demo_user(
            email=email,
            name=name,
            organisation=organisations[org] if org is not None else None,
            roles=roles,
            is_staff=is_staff,
            is_superuser=is_superuser,
        )
        for attribute, email, name, org, roles, is_staff, is_superuser in PEOPLE
    }
    _content_pages(home)
    settings = SiteSettings.for_site(home.get_site())
    if not settings.tagline:
        settings.tagline = "Build the product with the customers who use it."
        settings.support_email = "support@cocreate.example"
        settings.save()
    return DemoPeople(organisations=organisations, **people)


CONTENT = [
    (
        "Community guidelines",
        "guidelines",
        "",
        "<p>Be specific: describe the problem your company has, not only the feature you want.</p>"
        "<p>One idea per submission. Search first: support an existing idea rather than posting a duplicate.</p>"
        "<p>Be respectful. Product managers moderate every submission before it is public.</p>",
    ),
    (
        "Contribution terms",
        "contribution-terms",
        "2026-11",
        "<p>By submitting an idea you confirm it is your own (or your co-creators') and grant us the right to develop it.</p>"
        "<p>If an idea is commercialised, its creators receive a royalty on net sales under a royalty agreement.</p>",
    ),
    (
        "Privacy",
        "privacy",
        "2026-11",
        "<p>We store your name, e-mail, organisation and what you post. Supports are shown to product managers by "
        "organisation. You can export your data or delete your account from your profile.</p>",
    ),
]


def _content_pages(home: HomePage) -> None:
    for title, slug, version, body in CONTENT:
        if not ContentPage.objects.filter(slug=slug).exists():
            home.add_child(instance=ContentPage(title=title, slug=slug, version=version, body=body))


def seed_customers(count: int) -> int:
    """``customer{i}@example.com`` accounts for load tests, spread over the demo organisations."""
    organisations = list(Organisation.objects.order_by("pk"))
    existing = set(
        User.objects.filter(email__startswith="customer", email__endswith="@example.com").values_list(
            "email", flat=True
        )
    )
    template = User(email="x@example.com")
    template.set_password(DEMO_PASSWORD)  # hash once: hashing per user would take minutes for thousands
    created = 0
    new_users = []
    for i in range(1, count + 1):
        email = f"customer{i}@example.com"
        if email in existing:
            continue
        new_users.append(
            User(
                email=email,
                username=email,
                password=template.password,
                display_name=f"Customer {i}",
                organisation=organisations[i % len(organisations)] if organisations else None,
            )
        )
    with transaction.atomic():
        User.objects.bulk_create(new_users, batch_size=500)
        users = list(User.objects.filter(email__in=[u.email for u in new_users]))
        EmailAddress.objects.bulk_create(
            [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users], batch_size=500
        )
        from django.contrib.auth.models import Group

        from cocreate.roles import GROUP_NAMES

        group = Group.objects.get(name=GROUP_NAMES[Role.CUSTOMER])
        group.user_set.add(*users)
        created = len(users)
    return created
