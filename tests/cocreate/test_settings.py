from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from cocreate import settings as s

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "k3Jx9-q2LmZp7RtYv8WnBc4Hs6Df1Ga5Ek0Uo3Ti9Ry2Qw7Ez4Xc8Vb6Nm1Lp5Kj",
    "ALLOWED_HOSTS": "cocreate.example.com",
    "SITE_URL": "https://cocreate.example.com",
}


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL")
    }
    clean["COCREATE_VAR_DIR"] = "/tmp/cocreate-settings-test"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_boolean_variables_accept_the_usual_spellings(monkeypatch: pytest.MonkeyPatch) -> None:
    for raw, expected in [("1", True), ("true", True), ("On", True), ("0", False), ("no", False)]:
        monkeypatch.setenv("X_FLAG", raw)
        assert s.env_bool("X_FLAG", not expected) is expected


def test_a_bad_boolean_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG='maybe'"):
        s.env_bool("X_FLAG", False)


def test_a_bad_integer_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_NUMBER", "12a")
    with pytest.raises(ImproperlyConfigured, match="X_NUMBER='12a' is not an integer"):
        s.env_int("X_NUMBER", 1)
    monkeypatch.setenv("X_NUMBER", "-1")
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        s.env_int("X_NUMBER", 1, minimum=0)


def test_a_url_with_the_wrong_scheme_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_DB", "mysql://localhost/db")
    with pytest.raises(ImproperlyConfigured, match="X_DB='mysql://localhost/db' must start with one of"):
        s.env_url("X_DB", "", schemes=("sqlite", "postgres"))


def test_redis_databases_are_separated_per_use() -> None:
    assert s._redis_db("redis://127.0.0.1:6379", 2) == "redis://127.0.0.1:6379/2"
    assert s._redis_db("redis://:pw@cache.internal:6380/0", 1) == "redis://:pw@cache.internal:6380/1"
    assert s._redis_db("redis://127.0.0.1:6379/6", 2) == "redis://127.0.0.1:6379/8"


def test_production_mode_refuses_to_start_without_a_real_secret_key() -> None:
    result = run_manage("check", env={**PRODUCTION_ENV, "SECRET_KEY": "short"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_mode_refuses_to_start_without_allowed_hosts() -> None:
    result = run_manage("check", env={**PRODUCTION_ENV, "ALLOWED_HOSTS": ""})
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must name" in result.stderr


def test_a_bad_environment_value_stops_start_up_with_its_name() -> None:
    result = run_manage("check", env={"WS_MAX_MESSAGE_BYTES": "lots"})
    assert result.returncode != 0
    assert "WS_MAX_MESSAGE_BYTES='lots' is not an integer" in result.stderr


def test_deploy_check_is_clean_in_production_mode() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_database_url_takes_sqlite_and_postgres_urls() -> None:
    code = "from django.conf import settings; d = settings.DATABASES['default']; print(d['ENGINE'], d['NAME'])"
    sqlite = run_manage("shell", "-c", code, env={"DATABASE_URL": "sqlite:////tmp/cocreate-x.sqlite3"})
    assert sqlite.stdout.strip().splitlines()[-1] == "django.db.backends.sqlite3 /tmp/cocreate-x.sqlite3"
    postgres = run_manage("shell", "-c", code, env={"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test"})
    assert postgres.stdout.strip().splitlines()[-1] == "django.db.backends.postgresql test"
