# `make run`: set up and run on the embedded default (SQLite, jobs inline, demo data) at http://127.0.0.1:5000
# `make test`: set up and run the whole suite (PostgreSQL + Redis on 127.0.0.1 when present, then SQLite)
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
PORT ?= 5000

.PHONY: run test setup system-deps services translations extract assets lint bench clean

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

# compile the committed catalogues (.po -> .mo); Chinese is the source language, English is translated
translations: $(VENV)/.installed
	@if ls app/translations/*/LC_MESSAGES/messages.po >/dev/null 2>&1; then \
	  $(BIN)/pybabel compile -d app/translations; fi

# re-extract messages after changing templates or code: `make extract`, then translate app/translations/en
extract: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations -l en

# bpmn-js for the diagram editor, installed from the npm registry (never committed)
assets:
	bash scripts/build_assets.sh

setup: $(VENV)/.installed translations assets

# Debian packages for browser tests (headless Chromium + CJK fonts); skipped when present or not root
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium and fonts-noto-cjk (browser tests)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	  else echo "chromium missing and cannot install: browser tests will be skipped"; fi; \
	fi

services:
	@bash .ci/services.sh

run: setup
	$(BIN)/flask db upgrade
	$(BIN)/flask demo-seed
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

test: setup system-deps services
	@if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then \
	  echo "== test suite on PostgreSQL"; \
	  TEST_DATABASE_URL=$${TEST_DATABASE_URL:-$(PG_TEST_URL)} $(BIN)/python -m pytest || exit $$?; \
	else echo "PostgreSQL not reachable on 127.0.0.1:5432: PostgreSQL-only tests will be skipped"; fi
	@echo "== test suite on the embedded default (SQLite)"
	TEST_DATABASE_URL=sqlite:// DATABASE_URL= $(BIN)/python -m pytest -m "not browser"

lint: $(VENV)/.installed
	$(BIN)/ruff check app workflows tests

bench: setup services
	$(BIN)/python -m tests.benchmarks.bench_service_objects --database-url $${BENCH_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/bench}

clean:
	rm -rf $(VENV) instance node_modules app/static/vendor
