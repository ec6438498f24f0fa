# django-redis-auth: the two commands of the README, and the helpers behind them.
#
#   make demo       venv + install + migrate + demo user + runserver on 127.0.0.1:8000
#   make test       venv + install + lint + both test passes (fakeredis/SQLite, Postgres/Redis)
#
# Everything installs into .venv from the repository's own pyproject.toml.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_STAMP := $(VENV)/.installed-demo
MANAGE := $(BIN)/python example_project/manage.py
SERVICES := .ci/services.sh

DEMO_ADDR ?= 127.0.0.1:8000
DEMO_DB ?= auth_demo
DEMO_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/$(DEMO_DB)
DEMO_REDIS_URL ?= redis://127.0.0.1:6379/0

.DEFAULT_GOAL := help
.PHONY: help venv demo demo-real demo-user superuser browser services test test-fake test-real \
	test-reliability reliability lint format bench clean
.PHONY: docs dist matrix system-tools

help:
	@echo "make demo       run the example project on http://$(DEMO_ADDR)/ (SQLite + in-process Redis)"
	@echo "make demo-real  the same demo on local PostgreSQL ($(DEMO_DB)) and Redis"
	@echo "make superuser  an admin account for http://$(DEMO_ADDR)/admin/ (the demo's venv)"
	@echo "make test       lint, then the test suite on fakeredis+SQLite and on Postgres+Redis"
	@echo "make lint       ruff check + ruff format --check"
	@echo "make format     ruff format + ruff check --fix"
	@echo "make bench      python benchmarks/run.py"
	@echo "make docs       the docs site (mkdocs build --strict) into site/"
	@echo "make dist       wheel + sdist into dist/, checked with twine"
	@echo "make matrix     the unit pass on Django 5.2/Py3.11, 6.0/Py3.12, 6.1/Py3.13 (tox)"
	@echo "make reliability  run the fault suite and rewrite docs/reliability.md"

# The virtualenv, (re)installed whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

# The demo needs only the package and its [demo] extra (no test or lint toolchain);
# --no-compile: Python compiles what the demo imports on first use, not all of Django.
$(DEMO_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-compile -e ".[demo]"
	touch $(DEMO_STAMP)

$(DEMO_STAMP)-real: $(DEMO_STAMP)
	$(BIN)/python -m pip install --quiet -e ".[demo,postgres]"
	touch $@

# --- demo ------------------------------------------------------------------------------------

demo: $(DEMO_STAMP)
	$(MANAGE) migrate --noinput
	$(MANAGE) demo_user
	@echo "Demo page: http://$(DEMO_ADDR)/  (mailbox: /dev/mailbox/, admin: /admin/ as demo@example.com)"
	$(MANAGE) runserver $(DEMO_ADDR)

demo-real: export DATABASE_URL = $(DEMO_DATABASE_URL)
demo-real: export REDIS_URL = $(DEMO_REDIS_URL)
demo-real: $(DEMO_STAMP)-real services
	psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$(DEMO_DB)'" \
	    | grep -q 1 || createdb -h 127.0.0.1 -U postgres $(DEMO_DB)
	$(MANAGE) migrate --noinput
	$(MANAGE) demo_user
	$(MANAGE) runserver $(DEMO_ADDR)

# An admin for /admin/ (the email is the username), in the demo's venv and database.
superuser: $(DEMO_STAMP)
	$(MANAGE) migrate --noinput
	$(MANAGE) createsuperuser

# --- tests -----------------------------------------------------------------------------------

# Debian packages the suite drives for real: Chromium for the browser tests (never a browser
# download of Playwright's own), gettext's xgettext for the translation check, nginx for the
# gateway test. Installed when missing and possible (root + apt-get); otherwise those tests
# skip, or fail with CI set.
SYSTEM_TOOLS := chromium:chromium chromedriver:chromium-driver xgettext:gettext nginx:nginx
system-tools:
	@missing=""; for pair in $(SYSTEM_TOOLS); do \
	    command -v $${pair%%:*} >/dev/null 2>&1 || [ -x /usr/sbin/$${pair%%:*} ] \
	        || missing="$$missing $${pair#*:}"; done; \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	        apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	            apt-get install -y -qq $$missing >/dev/null; \
	    else echo "make system-tools: missing$$missing and no root to install them"; fi; fi

browser: system-tools

services:
	$(SERVICES)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Unit pass: SQLite in memory + fakeredis (with Lua), no services needed.
test-fake: venv system-tools
	$(BIN)/pytest -q

# Integration pass: the same suite (plus @pytest.mark.real tests) on local Postgres + Redis.
# With CI set, unreachable services fail the run (tests/conftest.py exits 3); without CI
# the pass is skipped with a message, so `make test` still works on a laptop without them.
test-real: venv system-tools
	$(SERVICES) || test -z "$$CI"
	DRA_TEST_BACKEND=real $(BIN)/pytest -q

# The fault suite (tests/reliability, about 3 minutes): gunicorn + its own Redis, Postgres
# database and SMTP peers, which it breaks. Same service rules as test-real.
test-reliability: venv
	$(SERVICES) || test -z "$$CI"
	DRA_TEST_BACKEND=real $(BIN)/pytest -q -m reliability tests/reliability

test: lint docs test-fake test-real test-reliability

# The same suite, and docs/reliability.md rewritten from its figures.
reliability: venv services
	$(BIN)/python tests/reliability/report.py

# The docs site; --strict turns every warning (broken link, page missing from the nav) into
# a failure.
docs: venv
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# The release artefacts, as they would be uploaded.
dist: venv
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*
	# The compiled catalogs ship in the wheel (Accept-Language works without a build step).
	# (grep without -q reads the whole listing: -q would close the pipe on zipfile's printing)
	for lang in de fr es; do $(BIN)/python -m zipfile -l dist/*.whl | grep "locale/$$lang/LC_MESSAGES/django.mo" >/dev/null \
	    || { echo "make dist: $$lang catalog missing from the wheel"; exit 1; }; done

# Supported versions are tested, not claimed: every Django / Python pair the classifiers name.
MATRIX ?= py311-django52,py312-django60,py313-django61
matrix: venv
	PATH="$$(.ci/pythons.sh)" $(BIN)/tox run -e $(MATRIX)

bench: venv services
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf example_project/db.sqlite3 example_project/staticfiles .pytest_cache .ruff_cache .hypothesis
	rm -rf example_project/mailbox artifacts site dist
