"""Token authentication for the REST API (its own module: DRF imports it while ``rest_framework.views`` loads)."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


class TokenWithRolesAuthentication(TokenAuthentication):
    """DRF's token authentication that, on PostgreSQL, reads the user's role names in the same query as the token
    and the user: every API call that checks a role (``cocreate.roles.has_role``) costs one query fewer. Nothing
    is kept past the request. Elsewhere the roles are read on first use, as for a session."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        tokens = Token.objects.select_related("user")
        if connection.vendor == "postgresql":
            tokens = tokens.annotate(role_names=ArrayAgg("user__groups__name", filter=Q(user__groups__isnull=False)))
        token = tokens.filter(key=key).first()
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if hasattr(token, "role_names"):
            token.user._role_names = set(token.role_names or ())
        return token.user, token
