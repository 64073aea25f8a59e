"""Pagination for large idea lists: the total is cached briefly, so a page costs its rows, not a full count."""

from __future__ import annotations

import hashlib
from functools import cached_property
from typing import Any

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db.models import QuerySet
from rest_framework.pagination import PageNumberPagination

COUNT_TTL = 30  # seconds a list's total may lag behind: new ideas show up in the total within half a minute


class CachedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        objects: Any = self.object_list
        if not isinstance(objects, QuerySet):
            return super().count
        try:
            sql, params = objects.query.sql_with_params()
        except EmptyResultSet:  # a queryset known to be empty (e.g. .none()) has no SQL at all
            return 0
        key = "idea-count:" + hashlib.sha256(f"{sql}|{params!r}".encode()).hexdigest()
        cached = cache.get(key)
        if isinstance(cached, int):
            return cached
        total = objects.count()
        cache.set(key, total, COUNT_TTL)
        return total


class IdeaPagination(PageNumberPagination):
    django_paginator_class = CachedCountPaginator
    page_size = 25
