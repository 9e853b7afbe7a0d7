# The two commands of README.md: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

# A local run uses the embedded defaults; DEBUG on gives GraphiQL and the demo accounts.
export DEBUG ?= 1
# Where `make run` serves: `make run PORT=8001 HOST=0.0.0.0`.
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev lint typecheck schema bench clean examples web web-test

# The web studio (web/): built with Node.js 20.19+ when its sources or lockfile changed; the
# service serves web/dist at `/`. Without Node the API and admin still run.
NODE_OK := $(shell node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>20||(a===20&&b>=19)?0:1)' >/dev/null 2>&1 && echo yes)
WEB_DEPS_STAMP := web/node_modules/.installed
WEB_STAMP := web/.build-stamp
WEB_SOURCES := $(shell find web/src web/scripts -type f -not -path 'web/src/gql/*' 2>/dev/null) \
	web/index.html web/graphiql.html web/package.json web/vite.config.ts web/codegen.ts \
	web/tsconfig.json schema.graphql

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	@touch $@

$(DEV_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@ $(STAMP)

install: $(STAMP)

install-dev: $(DEV_STAMP)

$(WEB_DEPS_STAMP): web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

$(WEB_STAMP): $(WEB_DEPS_STAMP) $(WEB_SOURCES)
	cd web && npm run build
	@touch $@

web:
ifeq ($(NODE_OK),yes)
	@test -f web/dist/index.html || rm -f $(WEB_STAMP)
	@$(MAKE) --no-print-directory $(WEB_STAMP)
else
	@echo "Node.js 20.19+ not found: the web studio is not built (the API and admin still run at /graphql and /admin/)."
endif

# The schema documents itself: every type, field, argument and enum value described, and the
# relay shapes kept (graphql-schema-linter; the rules are in web/package.json).
web-test: web
ifeq ($(NODE_OK),yes)
	cd web && npm run lint:schema
	cd web && npm test
endif

# `.env` (a generated SECRET_KEY, DEBUG=1; git-ignored, written once) lets every later
# `.venv/bin/python manage.py ...` in any shell run like `make run` does.
run: $(STAMP) web
	$(PY) -m elementsite.localenv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_schedules
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

# The example files README's commands upload, drawn and synthesized by code under data/examples/.
examples: $(STAMP)
	$(PY) -m elementsite.localenv
	$(PY) manage.py seed_demo --examples-only

# The e2e tests under tests/web/ drive the built studio in Chromium (/usr/bin/chromium).
test: $(DEV_STAMP) web-test
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

typecheck: $(DEV_STAMP)
	$(VENV)/bin/mypy .

schema: $(DEV_STAMP)
	$(PY) manage.py export_schema elementsite.schema --path schema.graphql

bench: $(DEV_STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) data .env staticfiles .pytest_cache .mypy_cache .ruff_cache web/node_modules web/dist $(WEB_STAMP)
