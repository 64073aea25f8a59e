"""Pagination for large idea lists: the total is cached briefly, so a page costs its rows, not a full count."""

from __future__ import annotations

import hashlib
from functools import cached_property, partial
from typing import Any

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db.models import QuerySet
from rest_framework.pagination import PageNumberPagination

COUNT_TTL = 30  # seconds a list's total may lag behind: new ideas show up in the total within half a minute


class CachedCountPaginator(Paginator):
    """``count_key``, when given, names the list (who looks and with which filters) so that its total is found
    without compiling the count's SQL; without it the SQL itself is the key."""

    def __init__(self, object_list: Any, per_page: int, *, count_key: str | None = None) -> None:
        super().__init__(object_list, per_page)
        self.count_key = count_key

    @cached_property
    def count(self) -> int:
        objects: Any = self.object_list
        if not isinstance(objects, QuerySet):
            return super().count
        if self.count_key is not None:
            source = self.count_key
        else:
            try:
                sql, params = objects.query.sql_with_params()
            except EmptyResultSet:  # a queryset known to be empty (e.g. .none()) has no SQL at all
                return 0
            source = f"{sql}|{params!r}"
        key = "idea-count:" + hashlib.sha256(source.encode()).hexdigest()
        cached = cache.get(key)
        if isinstance(cached, int):
            return cached
        total = objects.count()
        cache.set(key, total, COUNT_TTL)
        return total


class IdeaPagination(PageNumberPagination):
    """Pages of 25; a view that sets ``count_key`` (see ``CachedCountPaginator``) saves compiling the count."""

    page_size = 25

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any] | None:
        self.django_paginator_class = partial(  # type: ignore[assignment]
            CachedCountPaginator, count_key=getattr(view, "count_key", None)
        )
        return super().paginate_queryset(queryset, request, view)
