# The single command surface. `make run` serves; `make test` runs every test lane; `make check`
# is everything CI runs. Every target installs what it needs first (uv, then the locked env).
SHELL := /bin/bash
# Cached bytecode: every subprocess the tests and benchmarks start would otherwise recompile
# every import (about 1.6 s each on these machines).
unexport PYTHONDONTWRITEBYTECODE
PYTHON ?= python3
UV := $(PYTHON) -m uv
RUN := $(UV) run --frozen
PG_TEST_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
# Database 15 of the machine's Redis: the Redis tests flush it freely.
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
PYTEST_ARGS ?=

# apt needs root: sudo when not already root.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install browser pgbouncer run dev worker fmt lint typecheck imports migrate migrations-check test test-sqlite test-pg check bench

install:
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	@$(UV) sync --frozen --quiet

# Debian's Chromium for the browser tests: Playwright for Python drives it and never downloads a
# browser of its own (it cannot here). Then the browser SDKs the tests load on a page
# (tests/e2e/test_browser_sdks.py), at the exact versions of tests/e2e/sdk/package-lock.json:
# `npm ci` again whenever the lock file is newer than what was installed.
SDK_DIR := tests/e2e/sdk
browser:
	@command -v chromium >/dev/null 2>&1 || { echo "installing Debian's chromium"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		$(SUDO) apt-get install -y -qq chromium >/dev/null; }
	@command -v npm >/dev/null 2>&1 || { echo "installing Debian's nodejs and npm"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		$(SUDO) apt-get install -y -qq nodejs npm >/dev/null; }
	@[ $(SDK_DIR)/node_modules/.package-lock.json -nt $(SDK_DIR)/package-lock.json ] || { \
		echo "installing the browser SDKs (npm ci in $(SDK_DIR))"; \
		npm ci --prefix $(SDK_DIR) --no-audit --no-fund --silent; }

# Debian's PgBouncer for the pooler lane (test-pgbouncer); each run starts its own instance.
pgbouncer:
	@[ -x /usr/sbin/pgbouncer ] || command -v pgbouncer >/dev/null 2>&1 || { \
		echo "installing Debian's pgbouncer"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		$(SUDO) apt-get install -y -qq pgbouncer >/dev/null; }

# `make run PORT=8010 HOST=0.0.0.0`: unset, serve takes JOURNEYLINE_HOST / JOURNEYLINE_PORT
# (127.0.0.1:8000).
HOST ?=
PORT ?=
run: install
	$(RUN) journeyline serve $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT))

dev: run

worker: install
	$(RUN) journeyline worker

fmt: install
	$(RUN) ruff format src tests bench
	$(RUN) ruff check --fix src tests bench

lint: install
	$(RUN) ruff format --check src tests bench
	$(RUN) ruff check src tests bench

typecheck: install
	$(RUN) mypy

imports: install
	$(RUN) lint-imports

migrate: install
	$(RUN) journeyline db upgrade

# Alembic upgrade to head then check for drift, on a fresh SQLite file and on PostgreSQL.
migrations-check: install
	$(RUN) python -m tests.migrations_check sqlite
	$(RUN) python -m tests.migrations_check postgres "$(PG_TEST_URL)"

test-sqlite: install browser
	env -u JOURNEYLINE_TEST_DATABASE_URL -u JOURNEYLINE_TEST_REDIS_URL $(RUN) pytest $(PYTEST_ARGS)

# PostgreSQL and Redis: the production shape.
test-pg: install
	JOURNEYLINE_TEST_DATABASE_URL="$(PG_TEST_URL)" JOURNEYLINE_TEST_REDIS_URL="$(REDIS_TEST_URL)" \
		$(RUN) pytest $(PYTEST_ARGS)

# The same PostgreSQL lane's API tests and the soak, through a PgBouncer in transaction mode
# that the lane starts (bench/pooler.py, decision 71).
POOLER_TESTS ?= tests/api tests/soak
test-pgbouncer: install pgbouncer
	JOURNEYLINE_TEST_POOLER=pgbouncer JOURNEYLINE_TEST_DATABASE_URL="$(PG_TEST_URL)" \
		JOURNEYLINE_TEST_REDIS_URL="$(REDIS_TEST_URL)" $(RUN) pytest $(POOLER_TESTS) $(PYTEST_ARGS)

# The whole PostgreSQL lane again on the other shape of the log: `events` hash-partitioned by
# tenant (store/partitions.py, decision 72), every database the lane migrates laid out so.
EVENT_PARTITIONS ?= 8
test-partitioned: install
	JOURNEYLINE_DATABASE__EVENT_PARTITIONS=$(EVENT_PARTITIONS) $(MAKE) --no-print-directory test-pg

# The README's test command: every lane, SQLite, the real PostgreSQL, PostgreSQL through
# PgBouncer, then PostgreSQL with the partitioned log. All always run (a failure in one must not
# hide how the others fare); it fails at the end if any did.
test: install browser pgbouncer
	@sqlite=0; pg=0; pooled=0; parted=0; \
	$(MAKE) --no-print-directory test-sqlite || sqlite=$$?; \
	$(MAKE) --no-print-directory test-pg || pg=$$?; \
	$(MAKE) --no-print-directory test-pgbouncer || pooled=$$?; \
	$(MAKE) --no-print-directory test-partitioned || parted=$$?; \
	verdict() { [ $$1 = 0 ] && echo passed || echo FAILED; }; \
	echo "lanes: sqlite $$(verdict $$sqlite), postgresql $$(verdict $$pg)," \
		"pgbouncer $$(verdict $$pooled), partitioned $$(verdict $$parted)"; \
	[ $$sqlite = 0 ] && [ $$pg = 0 ] && [ $$pooled = 0 ] && [ $$parted = 0 ]

check: lint typecheck imports migrations-check test

# The benchmark harness (bench/README.md): baselines, sync ingest, batch drain, merge cost.
# Needs the PostgreSQL and Redis above; `make bench BENCH_ARGS=--quick` for a smoke run.
BENCH_ARGS ?=
bench: install
	$(RUN) python -m bench $(BENCH_ARGS)
