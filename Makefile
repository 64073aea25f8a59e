# cocreate: the two commands that matter are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
WEB_PROCESSES ?= 3
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test test-unit test-e2e test-faults audit lint typecheck install run-prod-like migrate seed messages clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed

migrate: install
	$(BIN)/python manage.py compile_translations
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

## Start the whole platform on its embedded defaults (or on DATABASE_URL / REDIS_URL when set).
run: install
	$(BIN)/python manage.py run_platform --port $(PORT)

## Several ASGI processes + worker + beat against PostgreSQL and Redis (DATABASE_URL and REDIS_URL required).
run-prod-like: install
	$(BIN)/python manage.py run_platform --port $(PORT) --web-processes $(WEB_PROCESSES) --separate-beat

## Everything CI checks: lint, types, the test suite, then the browser tests in their own process.
test: install lint typecheck test-unit test-e2e

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy .

test-unit: install
	$(BIN)/python manage.py compile_translations > /dev/null
	$(BIN)/python -m pytest -q

test-e2e: install
	$(BIN)/python manage.py compile_translations > /dev/null
	DJANGO_ALLOW_ASYNC_UNSAFE=true $(BIN)/python -m pytest -q -m e2e tests/e2e

## Fault drills (worker, ASGI process, Redis killed) and a 60 s mixed load, on PostgreSQL + a private redis-server.
## Needs DATABASE_URL=postgres://…; fails (never skips) without PostgreSQL or redis-server.
test-faults: install
	$(BIN)/python manage.py compile_translations > /dev/null
	$(BIN)/python -m pytest -q -m faults tests/quality/test_faults.py

## Dependency vulnerabilities: pip-audit on the requirements when PyPI's advisory data or OSV answers from here (it is
## installed into a throwaway virtualenv; --strict, because a release it cannot look up is otherwise skipped in
## silence); otherwise it says so and runs the offline check against the stored advisory snapshot.
## Not part of `make test`, which never needs the network.
AUDIT_VENV ?= /tmp/cocreate-pip-audit
audit: install
	@service=$$($(BIN)/python -m tests.quality.dependency_audit probe); \
	if [ -n "$$service" ]; then \
		echo "audit: running pip-audit against the $$service vulnerability service"; \
		test -x $(AUDIT_VENV)/bin/pip-audit || { $(PYTHON) -m venv $(AUDIT_VENV) && $(AUDIT_VENV)/bin/python -m pip install --quiet pip-audit; } || exit 1; \
		$(AUDIT_VENV)/bin/pip-audit --strict --vulnerability-service $$service -r requirements.txt -r requirements-dev.txt; \
	else \
		echo "audit: could not reach a vulnerability service (PyPI's per-release JSON, api.osv.dev), so pip-audit did not run."; \
		echo "audit: ran instead: the offline check of the pinned and installed versions against the stored advisory"; \
		echo "audit: snapshot in tests/quality/dependency_advisories.toml (advisories newer than its date are not covered)."; \
		$(BIN)/python -m pytest -q -p no:cacheprovider tests/quality/test_dependency_audit.py; \
	fi

messages: install
	$(BIN)/python manage.py makemessages --no-obsolete -l zh_Hans -l zh_Hant -i ".venv/*" -i "var/*" -i "tests/*"
	$(BIN)/python manage.py makemessages --no-obsolete -d djangojs -l zh_Hans -l zh_Hant -i ".venv/*" -i "var/*" -i "tests/*" -i "static/*/vendor/*"

clean:
	rm -rf var .mypy_cache .ruff_cache
