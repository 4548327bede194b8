# Offload: `make run` serves the demo site on SQLite, `make test` runs the tests.
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(PY) -m flask --app offload
PYTEST := $(PY) -m pytest -q
# the suites run in parallel (pytest-xdist), a database per worker; a file's tests stay
# on one worker, so module fixtures (the authorization and fuzz worlds) are built once
WORKERS ?= auto
PARALLEL := -n $(WORKERS) --dist loadfile

.PHONY: install run seed test test-postgres test-browser test-browser-postgres test-hosts lint coverage clean bench-ledger bench

# (Python 3.11's own pip installs the editable project; upgrading it first cost CI a
# download and an install every run; redis: the client make test-hosts's limits and
# cache need)
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -e '.[test,postgres,redis]'
	touch $@

install: $(VENV)/.installed

# The site and, beside it, the mail worker (it prints mail to the log and runs the
# periodic jobs); Ctrl-C or the end of the server stops both.
run: install
	$(FLASK) db upgrade
	$(FLASK) demo seed
	$(FLASK) jobs worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	OFFLOAD_TWO_FACTOR_REQUIRED_FOR_ADMINS=false $(FLASK) run --host 127.0.0.1 --port 5000

seed: install
	$(FLASK) db upgrade
	$(FLASK) demo seed

# The SQLite suite (browser tests are a separate run: make test-browser)
test: install
	$(PYTEST) $(PARALLEL)

# Needs OFFLOAD_TEST_DATABASE_URL=postgresql+psycopg://... (.ci/run starts a throwaway cluster);
# each worker uses its own database, that name + "_gw0", "_gw1"..., created on first use
test-postgres: install
	@test -n "$$OFFLOAD_TEST_DATABASE_URL" || (echo "set OFFLOAD_TEST_DATABASE_URL" && exit 2)
	$(PYTEST) $(PARALLEL)

# in parallel too: each worker has its own database, live server, SMTP server and Chromium
test-browser: install
	$(PYTEST) -m browser $(PARALLEL)

# the account flows (two-factor, passkeys, devices, export, deletion, time zones) in
# Chromium on PostgreSQL too; needs OFFLOAD_TEST_DATABASE_URL like test-postgres
ACCOUNT_FLOWS := $(addprefix tests/browser/test_,two_factor_flow.py passkeys_flow.py \
	sessions_flow.py data_export_flow.py account_deletion_flow.py time_zone_flow.py)
test-browser-postgres: install
	@test -n "$$OFFLOAD_TEST_DATABASE_URL" || (echo "set OFFLOAD_TEST_DATABASE_URL" && exit 2)
	$(PYTEST) -m browser $(PARALLEL) $(ACCOUNT_FLOWS)

# -m hosts: two gunicorn instances and two workers on one PostgreSQL and one Redis
# (tests/hosts/); needs OFFLOAD_TEST_DATABASE_URL's server and Debian's redis-server.
# One test module that starts its own processes: not in parallel.
test-hosts: install
	@test -n "$$OFFLOAD_TEST_DATABASE_URL" || (echo "set OFFLOAD_TEST_DATABASE_URL" && exit 2)
	$(PYTEST) -m hosts -p no:xdist

# ruff, then the layers and the feature DAG as import contracts (pyproject.toml [tool.importlinter])
lint: install
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports

# Ledger throughput, SQLite and a throwaway PostgreSQL cluster (bench/README.md)
bench-ledger: install
	$(PY) bench/ledger.py

coverage: install
	$(PY) -m coverage run -m pytest -q && $(PY) -m coverage report --skip-covered

clean:
	rm -rf $(VENV) instance/offload.db* tests/artifacts

# pages under load (gunicorn + wrk) on SQLite and PostgreSQL at 1,000 and 100,000 gigs
bench: install
	$(PY) bench/web.py
