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

.PHONY: run test install install-dev lint typecheck schema bench clean examples

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

# `.env` (a generated SECRET_KEY, DEBUG=1; git-ignored, written once) lets every later
# `.venv/bin/python manage.py ...` in any shell run like `make run` does.
run: $(STAMP)
	$(PY) -m elementsite.localenv
	$(PY) manage.py migrate --noinput
	$(PY) manage.py ensure_schedules
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py serve --host $(HOST) --port $(PORT)

# The example files README's commands upload, drawn and synthesized by code under data/examples/.
examples: $(STAMP)
	$(PY) -m elementsite.localenv
	$(PY) manage.py seed_demo --examples-only

test: $(DEV_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(DEV_STAMP)
	$(VENV)/bin/mypy .

schema: $(DEV_STAMP)
	$(PY) manage.py export_schema elementsite.schema --path schema.graphql

bench: $(DEV_STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) data .env staticfiles .pytest_cache .mypy_cache .ruff_cache
