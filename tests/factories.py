"""factory_boy factories for the shared core; each app's tests add theirs in tests/<app>/factories.py."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import factory
from allauth.account.models import EmailAddress

from cocreate.demo import DEMO_PASSWORD
from cocreate.models import Organisation, User
from cocreate.roles import Role
from cocreate.services import role_grant


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Customer Company {n}")
    tier = Organisation.Tier.BRONZE
    annual_revenue = Decimal("250000.00")
    domain = factory.Sequence(lambda n: f"company{n}.example")


class UserFactory(factory.django.DjangoModelFactory):
    """A user with a verified e-mail; ``roles=[Role.X, ...]`` puts them in the role groups."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    username = factory.LazyAttribute(lambda u: u.email)
    display_name = factory.Sequence(lambda n: f"User {n}")
    password = factory.PostGenerationMethodCall("set_password", DEMO_PASSWORD)

    @factory.post_generation
    def roles(self, create: bool, extracted: Sequence[Role] | None, **kwargs: Any) -> None:
        if not create:
            return
        self.save()
        EmailAddress.objects.get_or_create(user=self, email=self.email, defaults={"verified": True, "primary": True})
        for role in extracted or ():
            role_grant(user=self, role=role)
