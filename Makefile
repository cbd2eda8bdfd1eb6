# SFUMATO: `make run` sets up and serves the app; `make test` sets up and runs every test.
SHELL := /bin/bash
PYTHON ?= python3
export POETRY_VIRTUALENVS_IN_PROJECT := true
export POETRY_NO_INTERACTION := 1
# Poetry from PATH, or a private copy in .tools/ installed on first use.
POETRY := $(shell command -v poetry 2>/dev/null || echo $(CURDIR)/.tools/bin/poetry)
FRONTEND := frontend
PY_SOURCES := app tests scripts

.PHONY: help install install-backend install-frontend build run dev test lint format \
        test-backend test-frontend test-e2e smoke bench bench-batch eval clean types types-check

help:
	@echo "make run    - install everything, build the web app, serve on http://127.0.0.1:8000"
	@echo "make test   - install everything, then lint + backend + frontend unit + browser tests"
	@echo "make eval   - run the benchmark goals (benchmarks/goals.jsonl) as a batch, print the uplift"
	@echo "make smoke  - one short real session per configured provider (needs keys in .env)"
	@echo "make bench  - measure SFUMATO's own overhead per iteration, K=4 vs K=1 rounds, and how it scales with history"
	@echo "make types - regenerate frontend/src/lib/api.gen.ts (OpenAPI) and limits.gen.ts (app/limits.py)"

$(POETRY):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --upgrade pip poetry

.venv/.installed: pyproject.toml poetry.lock | $(POETRY)
	$(POETRY) install --quiet
	@touch $@

install-backend: .venv/.installed

$(FRONTEND)/node_modules/.installed: $(FRONTEND)/package.json $(FRONTEND)/package-lock.json
	cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

install-frontend: $(FRONTEND)/node_modules/.installed

install: install-backend install-frontend

# The web app is rebuilt only when its sources changed: the stamp is newer than every file the
# build reads, so `make run` with nothing changed starts the server without running `vite build`.
WEB_STAMP := app/web/dist/.built
WEB_SOURCES := $(shell find $(FRONTEND)/src $(FRONTEND)/public assets -type f 2>/dev/null) \
	$(wildcard $(FRONTEND)/index.html $(FRONTEND)/package.json $(FRONTEND)/package-lock.json \
	$(FRONTEND)/vite.config.ts $(FRONTEND)/tsconfig.json)

$(WEB_STAMP): $(WEB_SOURCES) | install-frontend
	cd $(FRONTEND) && npm run build --silent
	@touch $@

build: install-frontend $(WEB_STAMP)

run: install build
	$(POETRY) run python -m app.main

# Backend with auto-reload off; run `cd frontend && npm run dev` beside it for hot reload (the Vite
# proxy forwards the browser's Host, 127.0.0.1:5173, so that name is allowed too).
dev: install-backend
	CORS_ORIGINS='["http://127.0.0.1:5173","http://localhost:5173"]' \
	ALLOWED_HOSTS='["127.0.0.1:5173","localhost:5173"]' $(POETRY) run python -m app.main

lint: install types-check
	$(POETRY) run python scripts/env_example.py --check
	$(POETRY) run ruff check $(PY_SOURCES)
	$(POETRY) run black --check --quiet $(PY_SOURCES)
	$(POETRY) run mypy
	cd $(FRONTEND) && npm run lint --silent && npm run format:check --silent

# The web app's API types are generated from the server's OpenAPI description (one contract).
TYPES := $(FRONTEND)/src/lib/api.gen.ts
# ...and its limits from app/limits.py (scripts/limits_ts.py), so no limit is written by hand there.
LIMITS_TS := $(FRONTEND)/src/lib/limits.gen.ts
GEN_TYPES = cd $(FRONTEND) && npx openapi-typescript --default-non-nullable=false

types: install
	$(POETRY) run python scripts/openapi_dump.py > $(FRONTEND)/openapi.json
	$(GEN_TYPES) openapi.json -o src/lib/api.gen.ts
	rm -f $(FRONTEND)/openapi.json
	$(POETRY) run python scripts/limits_ts.py > $(LIMITS_TS)

types-check: install
	$(POETRY) run python scripts/openapi_dump.py > $(FRONTEND)/openapi.json
	$(GEN_TYPES) openapi.json -o openapi.gen.ts >/dev/null
	@if ! diff -u $(TYPES) $(FRONTEND)/openapi.gen.ts; then \
	  rm -f $(FRONTEND)/openapi.json $(FRONTEND)/openapi.gen.ts; \
	  echo "$(TYPES) is not what the API describes: run 'make types' and commit it." >&2; exit 1; fi
	rm -f $(FRONTEND)/openapi.json $(FRONTEND)/openapi.gen.ts
	@if ! $(POETRY) run python scripts/limits_ts.py | diff -u $(LIMITS_TS) -; then \
	  echo "$(LIMITS_TS) is not what app/limits.py says: run 'make types' and commit it." >&2; exit 1; fi

format: install
	$(POETRY) run python scripts/env_example.py
	$(POETRY) run ruff check --fix $(PY_SOURCES)
	$(POETRY) run black --quiet $(PY_SOURCES)
	cd $(FRONTEND) && npx prettier --write . --log-level warn

test-backend: install-backend
	$(POETRY) run pytest

test-frontend: install-frontend
	cd $(FRONTEND) && npm test --silent

test-e2e: install build
	bash scripts/ensure_chromium.sh
	cd $(FRONTEND) && npm run e2e --silent

# Backend tests last, so the run ends with pytest's summary line.
test: lint test-frontend test-e2e test-backend

# The concurrency tests (marked `race`), each run STRESS_TIMES times in one pytest process: a race
# that loses one time in ten fails here.
STRESS_TIMES ?= 50
.PHONY: stress
stress: install-backend
	SFUMATO_REPEAT=$(STRESS_TIMES) $(POETRY) run python -m pytest -p tests.race_repeat -m race

smoke: install-backend
	$(POETRY) run python scripts/smoke.py

bench: install-backend
	$(POETRY) run python scripts/bench.py
	$(POETRY) run python scripts/bench_rounds.py
	$(POETRY) run python scripts/bench_scale.py

clean:
	rm -rf .venv .tools $(FRONTEND)/node_modules app/web/dist .pytest_cache .ruff_cache

# A 24-goal batch at J=1 and J=8 against fixed-latency fakes; `make bench` runs it too.
bench: bench-batch
bench-batch: install-backend
	$(POETRY) run python scripts/bench_batch.py

# The benchmark as a batch with the configured provider (the offline demo without keys).
# Resumable: run again and the goals already done in $(EVAL_OUT) are skipped.
EVAL_PROVIDER ?= demo
EVAL_JOBS ?= 4
EVAL_OUT ?= data/eval/$(EVAL_PROVIDER)
eval: install-backend
	DEMO_STEP_DELAY_S=$${DEMO_STEP_DELAY_S:-0} $(POETRY) run sfumato batch benchmarks/goals.jsonl \
		--provider $(EVAL_PROVIDER) --jobs $(EVAL_JOBS) --out $(EVAL_OUT) $(EVAL_ARGS)
