# `make run` starts the whole app locally; `make test` is what CI runs; `make test-fast` runs the quick test tiers
# (unit and integration, docs/testing.md) without the browser, infra, bench and Python 3.13 tools.
# Each creates the virtual environment and installs what it needs first: `make run` only what running needs
# (requirements-local.txt), `make test`, `make test-fast` and `make install` the test and scan tools on top
# (requirements-dev.txt).
# `PYTHON=` runs everything on another interpreter (a name on PATH or a path: `make test PYTHON=python3.13`),
# in a venv of its own per minor version (.venv-3.13), so the default .venv is never rebuilt on another Python.
PYTHON ?= python3
PYTHON_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
VENV := $(if $(filter command line,$(origin PYTHON)),.venv-$(PYTHON_VERSION),.venv)
# The Python 3.13 the runtime tests (tests/runtime) run the app on, inside the Functions Python runtime it pins:
# python3.13 on PATH, else the newest 3.13 pyenv holds.
PYTHON_3_13 ?= $(shell python3.13 -c 'import sys; print(sys.executable)' 2>/dev/null || \
	ls -d "$$(pyenv root 2>/dev/null)"/versions/3.13*/bin/python3.13 2>/dev/null | sort -V | tail -n 1)
PY := $(VENV)/bin/python
INFRA_VENV := .venv-infra
PORT_SCHEDULER ?= 8080
PORT_HTTP ?= 7071
PORT_DASHBOARD ?= 8082
STORE ?= sqlite
DATA_FILE ?= .local/scheduler.sqlite3

.PHONY: install install-run run scheduler test test-fast lint format bench clean infra-tools browser-tools bench-tools \
	runtime-tools smoke

install: $(VENV)/.installed

install-run: $(VENV)/.run-installed

$(VENV)/.run-installed: requirements.txt requirements-local.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-local.txt
	touch $@

$(VENV)/.installed: requirements-dev.txt $(VENV)/.run-installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Infrastructure scanners live in their own venv: their pins must not move the app's.
infra-tools: $(INFRA_VENV)/.installed

$(INFRA_VENV)/.installed: infra/requirements-tools.txt
	test -x $(INFRA_VENV)/bin/python || $(PYTHON) -m venv $(INFRA_VENV)
	$(INFRA_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(INFRA_VENV)/bin/python -m pip install --quiet -r infra/requirements-tools.txt
	touch $@

# Dashboard browser tests: Debian's chromium (needs root + apt) and Playwright's Python package.
# Without chromium the browser tests skip with a printed reason; .ci/run requires them to run.
browser-tools: $(VENV)/.browser-installed

$(VENV)/.browser-installed: requirements-browser.txt $(VENV)/.installed
	test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
		|| echo "chromium could not be installed; the dashboard browser tests will be skipped"
	$(PY) -m pip install --quiet -r requirements-browser.txt
	test -x /usr/bin/chromium && touch $@ || true

# .venv-3.13 for the runtime tests and the Python versions bench, from the machine's Python 3.13; where none is
# found, pyenv installs one. Without any, the runtime tests are skipped with the reason printed.
runtime-tools:
	@python="$(PYTHON_3_13)"; \
	if [ -z "$$python" ] && command -v pyenv >/dev/null; then \
		pyenv install --skip-existing 3.13 && python="$$(pyenv root)/versions/$$(pyenv latest 3.13)/bin/python3.13"; \
	fi; \
	if [ -n "$$python" ]; then $(MAKE) --no-print-directory install PYTHON="$$python"; \
	else echo "No Python 3.13 could be found or installed: the runtime tests will be skipped"; fi

bench-tools: $(VENV)/.bench-installed

$(VENV)/.bench-installed: requirements-bench.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-bench.txt
	touch $@

run: install-run
	$(PY) -m local_stack run --scheduler-port $(PORT_SCHEDULER) --http-port $(PORT_HTTP) --dashboard-port $(PORT_DASHBOARD) \
		--store $(STORE) --data-file $(DATA_FILE)

scheduler: install-run
	$(PY) -m local_stack scheduler --port $(PORT_SCHEDULER) --store $(STORE) --data-file $(DATA_FILE)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: install runtime-tools browser-tools bench-tools $(if $(wildcard infra/requirements-tools.txt),infra-tools) lint
	$(PY) -m pytest

test-fast: install lint
	$(PY) -m pytest -m "unit or integration"

# The post-deploy smoke check for apps published without azd (azd runs it after every deploy):
# make smoke URL=https://<app>.azurewebsites.net KEY=<function key>. Standard library only, so no venv is needed.
smoke:
	$(PYTHON) -m scripts.smoke --url "$(URL)" $(if $(KEY),--key "$(KEY)")

bench: bench-tools runtime-tools
	$(PY) -m bench

clean:
	rm -rf .venv .venv-3.* $(INFRA_VENV) .pytest_cache .ruff_cache
