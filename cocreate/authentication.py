"""Token authentication for the REST API (its own module: DRF imports it while ``rest_framework.views`` loads).

Each process keeps the tokens it has seen, with their users and role names, checked against one version in the
shared cache (``cocreate.versions``): a call with a known token costs that one cache read, or nothing more when
the view reads the version with others (``versions_prefetched``), instead of a query. Every change that can
change what a token grants replaces the version, so that every process reads its tokens again at its next
request: a token created or deleted, a user saved (deactivated, made superuser, moved to another organisation)
or deleted, a user added to or removed from a group, a group renamed or deleted. The receivers below are
connected by ``CocreateConfig.ready`` in every process that can write. A write that sends no signal
(``QuerySet.update`` on users, SQL typed by hand) must call ``api_tokens_changed`` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from cocreate.roles import roles_remember
from cocreate.versions import KeptPerProcess, version_replace

VERSION_KEY = "api-tokens-version"
TOKENS_MAX = 10_000  # per process; past it the table starts again
_M = TypeVar("_M", bound=Model)


@dataclass(frozen=True)
class _KnownToken:
    token: Token  # with its user; never handed out, only copies of it
    role_names: frozenset[str]


_known: KeptPerProcess[str, _KnownToken] = KeptPerProcess(VERSION_KEY, TOKENS_MAX)


def api_tokens_changed() -> None:
    """Make every process read its API tokens, users and roles again (see ``cocreate.versions``)."""
    version_replace(VERSION_KEY)


class TokenWithRolesAuthentication(TokenAuthentication):
    """DRF's token authentication, with the token, its user and the user's role names kept per process (see the
    module). A token read anew costs one query on PostgreSQL (the role names come with the token and the user),
    two elsewhere. Each request gets its own copies of the user and the token."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        known = _known.get(key, lambda: _token_read(key))
        if not known.token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        user = _copy(known.token.user)
        roles_remember(user, known.role_names)
        token = _copy(known.token)
        token.user = user
        return user, token


def _copy(instance: _M) -> _M:
    """A copy of a model instance that shares no mutable state with it (``Model.__getstate__`` copies the
    instance's state and its cache of related objects, as for pickling)."""
    clone = instance.__class__.__new__(instance.__class__)
    clone.__dict__.update(instance.__getstate__())
    return clone


def _token_read(key: str) -> _KnownToken:
    """The token, its user and the user's role names. On PostgreSQL in one query written out here: the ORM's
    version (``select_related`` and an ``ArrayAgg`` annotation, so a ``GROUP BY`` of every user column) cost
    2.2 ms of CPU to build against 0.5 ms for this one, and most calls of a busy API read a token the process
    has not seen yet. Elsewhere through the ORM, and the role names in a second query."""
    if connection.vendor == "postgresql":
        found = _token_read_postgresql(key)
    else:
        token = Token.objects.select_related("user").filter(key=key).first()
        found = None if token is None else (token, frozenset(token.user.groups.values_list("name", flat=True)))
    if found is None:
        raise exceptions.AuthenticationFailed(_("Invalid token."))
    token, names = found
    return _KnownToken(token=token, role_names=names)


def _token_read_postgresql(key: str) -> tuple[Token, frozenset[str]] | None:
    user_model = get_user_model()
    memberships = user_model.groups.through._meta.db_table
    sql = f"""
        SELECT u.*, t.key AS _token_key, t.created AS _token_created,
            ARRAY(SELECT g.name FROM {memberships} m JOIN {Group._meta.db_table} g ON g.id = m.group_id
                  WHERE m.user_id = u.id) AS _token_role_names
        FROM {Token._meta.db_table} t JOIN {user_model._meta.db_table} u ON u.id = t.user_id
        WHERE t.key = %s
    """  # noqa: S608 - table names from the models
    user = next(iter(user_model.objects.raw(sql, [key])), None)
    if user is None:
        return None
    # The extra columns arrive as attributes of the user: taken off, the token's key is no attribute of a user.
    extra = {name: user.__dict__.pop(name) for name in ("_token_key", "_token_created", "_token_role_names")}
    token = Token.from_db(
        user._state.db, ["key", "user_id", "created"], [extra["_token_key"], user.pk, extra["_token_created"]]
    )
    token.user = user
    return token, frozenset(extra["_token_role_names"])


def _changed(**kwargs: Any) -> None:
    api_tokens_changed()


def _user_saved(update_fields: frozenset[str] | None = None, **kwargs: Any) -> None:
    # A login only stamps ``last_login``, which no API call reads.
    if update_fields is None or not update_fields <= {"last_login"}:
        api_tokens_changed()


def _groups_changed(action: str, **kwargs: Any) -> None:
    if action in ("post_add", "post_remove", "post_clear"):
        api_tokens_changed()


def receivers_connect() -> None:
    """Connect the receivers that replace the version (``CocreateConfig.ready``)."""
    for sender in (Token, Group):
        post_save.connect(_changed, sender=sender, dispatch_uid=f"api-tokens-saved-{sender.__name__}")
        post_delete.connect(_changed, sender=sender, dispatch_uid=f"api-tokens-deleted-{sender.__name__}")
    post_save.connect(_user_saved, sender=settings.AUTH_USER_MODEL, dispatch_uid="api-tokens-user-saved")
    post_delete.connect(_changed, sender=settings.AUTH_USER_MODEL, dispatch_uid="api-tokens-user-deleted")
    # The user-group table: sent for user.groups.add(...) and group.user_set.add(...) alike.
    groups = Group.user_set.through
    m2m_changed.connect(_groups_changed, sender=groups, dispatch_uid="api-tokens-groups-changed")
