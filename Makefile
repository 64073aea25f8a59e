# cocreate: the two commands that matter are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
WEB_PROCESSES ?= 3
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test test-unit test-e2e test-faults lint typecheck install run-prod-like migrate seed messages clean

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

messages: install
	$(BIN)/python manage.py makemessages --no-obsolete -l zh_Hans -l zh_Hant -i ".venv/*" -i "var/*" -i "tests/*"
	$(BIN)/python manage.py makemessages --no-obsolete -d djangojs -l zh_Hans -l zh_Hant -i ".venv/*" -i "var/*" -i "tests/*" -i "static/*/vendor/*"

clean:
	rm -rf var .mypy_cache .ruff_cache
