"""The documented PostgreSQL backup and restore (README, "Backup and restore") works on real data."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from tests.factories import OrganisationFactory

pytestmark = [
    pytest.mark.skipif(not settings.IS_POSTGRES, reason="runs in the PostgreSQL pass of CI (DATABASE_URL)"),
    pytest.mark.django_db(transaction=True),
]


def test_a_dump_restores_into_an_empty_database_with_every_row(tmp_path: Path) -> None:
    # On PostgreSQL a missing pg_dump is a broken CI image, not a reason to skip the only backup test.
    assert shutil.which("pg_dump"), "install postgresql-client (pg_dump)"
    assert shutil.which("pg_restore"), "install postgresql-client (pg_restore)"
    OrganisationFactory(name="Backed-up Company", tier="gold")
    params = connection.get_connection_params()
    dsn = f"postgresql://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}:{params.get('port', 5432)}"
    source = connection.settings_dict["NAME"]
    dump = tmp_path / "cocreate.dump"
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", f"{dsn}/{source}"], check=True)
    assert dump.stat().st_size > 10_000

    target = f"restore_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{dsn}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{target}"')
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={dsn}/{target}", str(dump)], check=True
        )
        with psycopg.connect(f"{dsn}/{target}") as restored:
            row = restored.execute(
                "SELECT tier FROM cocreate_organisation WHERE name = %s", ["Backed-up Company"]
            ).fetchone()
            migrations = restored.execute("SELECT count(*) FROM django_migrations").fetchone()
        assert row == ("gold",)
        assert migrations is not None
        assert migrations[0] > 100
    finally:
        with psycopg.connect(f"{dsn}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
