"""Pages of the API idea list, kept rendered in the shared cache and checked against one version number.

A page's body depends on who looks (``viewer_class``: product managers see every idea, everyone else the public
ones plus their own and those they were invited to co-create), the filters, the ordering, the page number and the
language (``status_label`` is translated); nothing in it is per person otherwise. So a page is stored once per
such key, and with it the version of the idea lists it was built from. Every write that changes what a list shows
(an idea created, edited, moderated, moved along the lifecycle, merged or expired; a support added or withdrawn; a
comment counted; a tag or a creator's name changed) calls ``idea_lists_changed``, which replaces the version: the
next request of each key builds its page again. A warm page costs one cache round trip and no query.

The version is a token of ``cocreate.versions``: replaced when the write happens and again after its commit. It
is read before the page is built, so a page built while a write commits is stored under the version that write
replaces.

Writes through the services call ``idea_lists_changed`` themselves (their ``update()`` calls and raw SQL send no
signals); model saves and deletes (admin, factories, tags) are caught by the receivers below. Anything else
(a bulk load, SQL typed by hand) shows up when ``PAGE_TTL`` ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from taggit.models import Tag

from cocreate.models import User
from cocreate.roles import Role, has_role
from cocreate.versions import version_current, version_replace
from ideas.models import PUBLIC_STATUSES, Idea, IdeaCoCreator, IdeaTag, Support

VERSION_KEY = "idea-lists-version"
PAGE_TTL = 300  # seconds: the longest a page can lag behind a write that bypassed idea_lists_changed


@dataclass(frozen=True)
class CachedPage:
    """One rendered page of results, the list's total and where the page sits; the links are built per request
    (they repeat the request's own URL)."""

    version: str
    count: int
    has_next: bool
    has_previous: bool
    results: bytes


def idea_lists_version() -> str:
    return version_current(VERSION_KEY)


def idea_lists_changed() -> None:
    """Make every cached list page stale (see ``cocreate.versions``)."""
    version_replace(VERSION_KEY)


def viewer_class(user: AbstractBaseUser | AnonymousUser) -> str:
    """Who sees the same ideas as whom: ``all`` (product managers), ``public`` (visitors, and anyone with no idea
    of their own or to co-create outside the public statuses), else ``user:<id>``."""
    if has_role(user, Role.PRODUCT_MANAGER):
        return "all"
    if not user.is_authenticated:
        return "public"
    invited = IdeaCoCreator.objects.filter(user_id=user.pk).values("idea_id")
    # Merged ideas are never listed, so an own merged idea does not set the list apart either.
    hidden = set(Idea.Status) - PUBLIC_STATUSES - {Idea.Status.MERGED}
    sees_more = Idea.objects.filter(Q(creator_id=user.pk) | Q(pk__in=invited), status__in=hidden).exists()
    return f"user:{user.pk}" if sees_more else "public"


def page_get(key: str) -> tuple[str, CachedPage | None]:
    """The current version and the page stored under ``key`` if it was built at that version (one round trip
    when the version exists)."""
    found = cache.get_many([VERSION_KEY, key])
    version = found.get(VERSION_KEY)
    if not isinstance(version, str):
        return idea_lists_version(), None
    page = found.get(key)
    if isinstance(page, CachedPage) and page.version == version:
        return version, page
    return version, None


def page_set(key: str, page: CachedPage) -> None:
    cache.set(key, page, PAGE_TTL)


def _listed_model_changed(**kwargs: Any) -> None:
    idea_lists_changed()


def _user_saved(update_fields: frozenset[str] | None = None, **kwargs: Any) -> None:
    # The creator's public name is listed; a login only stamps ``last_login``.
    if update_fields is None or not update_fields <= {"last_login"}:
        idea_lists_changed()


# Connected per model: a receiver for every model would also keep Django from deleting other rows in bulk.
for _model in (Idea, Support, IdeaCoCreator, IdeaTag, Tag):
    post_save.connect(_listed_model_changed, sender=_model, dispatch_uid=f"idea-lists-saved-{_model.__name__}")
    post_delete.connect(_listed_model_changed, sender=_model, dispatch_uid=f"idea-lists-deleted-{_model.__name__}")
post_save.connect(_user_saved, sender=User, dispatch_uid="idea-lists-user-saved")
post_delete.connect(_listed_model_changed, sender=User, dispatch_uid="idea-lists-user-deleted")
