# Two commands: `make run` (the whole stack, embedded) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
PIP_INSTALL := $(PIP) install -q -c constraints.txt

.PHONY: install install-dev browser frontend frontend-test run test mutate lint format bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml constraints.txt
	$(PIP_INSTALL) -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP_INSTALL) -e '.[dev]'
	touch $@

install: $(VENV)/.installed
	$(PY) manage.py collectstatic --noinput -v 0

install-dev: install $(VENV)/.installed-dev browser

# Browser tests drive Debian's chromium through Playwright (Playwright's own download cannot work here).
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; }

# The PWA (frontend/): npm ci from the committed lock file when it changes; a build when its
# sources change. The build types its API client from the schema the code serves now.
FRONTEND_SOURCES := $(shell find frontend/src frontend/public -type f ! -name schema.d.ts 2>/dev/null) \
	$(wildcard frontend/index.html frontend/package.json frontend/vite.config.ts frontend/tsconfig*.json)

frontend/node_modules/.installed: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	touch $@

frontend/dist/index.html: frontend/node_modules/.installed $(FRONTEND_SOURCES) | $(VENV)/.installed
	$(PY) manage.py spectacular --format openapi-json --file frontend/openapi.json
	cd frontend && npm run build
	$(PY) -m whitenoise.compress -q frontend/dist

frontend: frontend/dist/index.html

## frontend-test: the API client checked against today's schema (a changed API fails here), vitest
frontend-test: frontend/node_modules/.installed $(VENV)/.installed
	$(PY) manage.py spectacular --format openapi-json --file frontend/openapi.json
	cd frontend && npm run typecheck && npm test

## run: install, start Postgres+pgvector, Redis, web, worker and beat; serve on 127.0.0.1:$$PORT
run: install frontend
	$(PY) -m embedded run

## test: lint, then every test (the harness starts its own Postgres and Redis), in
## PYTEST_WORKERS processes (pytest-xdist; each has its own test database and Redis databases)
PYTEST_WORKERS ?= 2
test: install-dev lint frontend frontend-test
	$(PY) -m pytest --numprocesses $(PYTEST_WORKERS) $(PYTEST_ARGS)

$(VENV)/.installed-mutate: $(VENV)/.installed-dev
	$(PIP_INSTALL) -e '.[dev,mutate]'
	touch $@

## mutate: mutation testing of the guards, budgets, quotas, idempotency, duplicates and reminders
## (slow, not in CI; resumable: results stay in mutants/). MUTANTS='ai.breaker.*' for one module,
## MUTATE_ARGS=--rerun-survivors after adding tests. Scores go to docs/testing.md.
mutate: $(VENV)/.installed-mutate
	$(PY) -m mutation $(MUTATE_ARGS) $(foreach m,$(MUTANTS),'$(m)')

# Lighthouse for bench/pwa.py, from its own lock file (kept out of frontend/: make test never
# installs it).
bench/lighthouse/node_modules/.installed: bench/lighthouse/package-lock.json
	cd bench/lighthouse && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## bench: the benchmarks (wrk from Debian drives the HTTP load); results in docs/benchmarks.md
## (the search one loads 1M memories, ~12 min; SEARCH_BENCH_ARGS=--quick is the CI size;
## the PWA one runs Lighthouse in Debian's chromium: PWA_BENCH_ARGS=--runs N; reminders: --quick)
bench: install-dev frontend bench/lighthouse/node_modules/.installed
	@command -v wrk >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq wrk >/dev/null; fi; }
	$(PY) -m bench.save $(BENCH_ARGS)
	$(PY) -m bench.enrich $(ENRICH_BENCH_ARGS)
	$(PY) -m bench.search $(SEARCH_BENCH_ARGS)
	$(PY) -m bench.pwa $(PWA_BENCH_ARGS)
	$(PY) -m bench.offline $(OFFLINE_BENCH_ARGS)
	$(PY) -m bench.reminders $(REMINDERS_BENCH_ARGS)

## lint: ruff, import-linter's contracts for the layers (.importlinter, docs/architecture.md), mypy
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy .

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) staticfiles frontend/node_modules frontend/dist frontend/openapi.json mutants
