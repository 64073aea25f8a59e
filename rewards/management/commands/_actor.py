"""Shell commands act as a finance user: ``--as EMAIL``, or the first active superuser."""

from __future__ import annotations

from django.core.management.base import CommandError

from cocreate.models import User
from cocreate.roles import Role, has_role


def actor_for(email: str | None) -> User:
    user = (
        User.objects.filter(email__iexact=email, is_active=True).first()
        if email
        else User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
    )
    if user is None or not has_role(user, Role.FINANCE):
        raise CommandError("Give --as with the e-mail of an active finance user (or create a superuser).")
    return user
