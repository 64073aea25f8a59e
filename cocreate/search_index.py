"""Adding many rows of a model to the search index at once.

The search backend indexes an object by loading it into Python, building one ``to_tsvector`` expression per field
value and sending them back as parameters, then rescanning the whole index table to set title norms, once per
batch: about 7 ms an idea on PostgreSQL, most of it in Python and the repeated rescans. On PostgreSQL the same
index entries are computed by the database in one ``INSERT … SELECT`` per batch, from the model's own
``search_fields`` (same columns, weights, text search configurations and plain text), and the title norms are
set once at the end. Other backends (SQLite full text, the fallback), and models whose search fields are not
plain non-null text columns, go through the backend's own bulk path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import connection, models, transaction
from modelsearch.backends.database.postgres.postgres import PostgresSearchBackend
from modelsearch.backends.database.postgres.weights import get_weight
from modelsearch.index import AutocompleteField, Indexed, SearchField
from modelsearch.utils import get_content_type_pk
from wagtail.search.backends import get_search_backends
from wagtail.search.models import IndexEntry

# What ``str.strip()`` removes, so the plain-text columns match the backend's to the character.
_WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())


def search_index_add_many(*, model: type[Indexed], pks: Sequence[int], batch_size: int = 5000) -> None:
    """Add (or refresh) the index entries of the ``model`` rows with these primary keys in every search backend
    that updates automatically; the entries equal those that saving each object one by one would write."""
    for backend in get_search_backends(with_auto_update=True):
        sql = _postgres_insert_sql(backend, model)
        params = {
            "content_type": get_content_type_pk(model),
            "whitespace": _WHITESPACE,
            "config": getattr(backend, "config", None),
            "autocomplete_config": getattr(backend, "autocomplete_config", None),
        }
        for start in range(0, len(pks), batch_size):
            batch = list(pks[start : start + batch_size])
            if sql is None:
                backend.add_bulk(model, list(model._default_manager.filter(pk__in=batch)))
                continue
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, {**params, "pks": batch})
        if sql is not None and pks:
            _postgres_title_norms_refresh()


def _postgres_insert_sql(backend: Any, model: type[Indexed]) -> str | None:
    """The ``INSERT … SELECT`` that writes the index entries of the rows whose keys are the ``pks`` parameter, or
    None when the backend is not PostgreSQL's or a search field is not a plain text column of ``model``."""
    if not isinstance(backend, PostgresSearchBackend) or connection.vendor != "postgresql":
        return None
    title: list[str] = []
    body: list[str] = []
    autocomplete: list[str] = []
    title_text: list[str] = []
    body_text: list[str] = []
    quote = connection.ops.quote_name
    for field in model.get_search_fields():
        if not isinstance(field, SearchField | AutocompleteField):
            continue  # filter fields and the like are not part of the entry
        try:
            column = model._meta.get_field(field.field_name)
        except FieldDoesNotExist:
            return None
        if not isinstance(column, models.CharField | models.TextField) or column.null:
            return None
        if column.column is None:
            return None
        name = quote(column.column)
        if isinstance(field, AutocompleteField):
            autocomplete.append(_vector(name, "D", "autocomplete_config" if backend.autocomplete_config else None))
            continue
        vector = _vector(name, get_weight(field.boost), "config" if backend.config else None)
        plain = f"NULLIF(btrim({name}, %(whitespace)s), '')"
        if field.field_name == "title":
            title.append(vector)
            title_text.append(plain)
        else:
            body.append(vector)
            body_text.append(plain)
    table = quote(model._meta.db_table)
    pk = quote(model._meta.pk.column)
    return (
        f"INSERT INTO {quote(IndexEntry._meta.db_table)} "  # noqa: S608 - names from the models
        "(content_type_id, object_id, title, autocomplete, body, title_norm, title_text, body_text) "
        f"SELECT %(content_type)s, {pk}::text, {_concat(title)}, {_concat(autocomplete)}, {_concat(body)}, 1.0, "
        f"concat_ws(' ', {', '.join(title_text) or 'NULL'}), concat_ws(' ', {', '.join(body_text) or 'NULL'}) "
        f"FROM {table} WHERE {pk} = ANY(%(pks)s) "
        "ON CONFLICT (content_type_id, object_id) DO UPDATE SET title = EXCLUDED.title, title_norm = 1.0, "
        "autocomplete = EXCLUDED.autocomplete, body = EXCLUDED.body, title_text = EXCLUDED.title_text, "
        "body_text = EXCLUDED.body_text"
    )


def _vector(column: str, weight: str, config: str | None) -> str:
    """The SQL of the backend's vector for one field value (Django's ``SearchVector(value, weight, config)``);
    ``config`` names the parameter that holds the text search configuration, if any."""
    regconfig = f"%({config})s::regconfig, " if config else ""
    return f"setweight(to_tsvector({regconfig}COALESCE({column}::text, '')), '{weight}')"


def _concat(vectors: list[str]) -> str:
    return " || ".join(vectors) if vectors else "to_tsvector('')"


def _postgres_title_norms_refresh() -> None:
    """Set the title norm of the new entries (those still at 1.0) to the average title length over this one's, as
    the backend does after each batch it indexes."""
    table = connection.ops.quote_name(IndexEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET title_norm = (SELECT avg(length(title)) FROM {table} WHERE length(title) > 0) "  # noqa: S608
            "/ length(title) WHERE title_norm = 1.0 AND length(title) > 0"
        )
