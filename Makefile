# factory-agents: `make run` brings the platform up on a simulated plant; `make test` checks it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt examples/*/pyproject.toml | cksum | cut -d' ' -f1)
# The browser test drives Debian's Chromium through Debian's chromedriver (never a downloaded one).
CHROMIUM := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver

.PHONY: install browser run test lint format bench clean

$(STAMP): pyproject.toml constraints.txt $(wildcard examples/*/pyproject.toml)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps -e examples/csv_historian
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# Nothing to do when both are there; else install them with apt-get (through sudo when not root).
browser:
	@if [ -x $(CHROMIUM) ] && [ -x $(CHROMEDRIVER) ]; then exit 0; fi; \
	help="install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver) so that $(CHROMIUM) and $(CHROMEDRIVER) exist"; \
	if [ "$$(id -u)" = 0 ]; then sudo=; \
	elif command -v sudo >/dev/null 2>&1; then sudo=sudo; \
	else echo "make browser: not root and no sudo; $$help" >&2; exit 1; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then echo "make browser: no apt-get here; $$help" >&2; exit 1; fi; \
	echo "Installing chromium and chromium-driver for the browser test ..."; \
	$$sudo apt-get update -q && \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -q chromium chromium-driver \
	|| { echo "make browser: apt-get failed; $$help" >&2; exit 1; }; \
	if [ ! -x $(CHROMIUM) ] || [ ! -x $(CHROMEDRIVER) ]; then \
	echo "make browser: still missing after apt-get; $$help" >&2; exit 1; fi

run: $(STAMP)
	$(BIN)/factory-agents up

test: $(STAMP) browser
	$(MAKE) lint
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/spc_arl.py
	$(BIN)/python benchmarks/jobshop.py
	$(BIN)/python benchmarks/board_render.py
	$(BIN)/python benchmarks/opcua_ingest.py
	$(BIN)/python benchmarks/spc_million.py
	$(BIN)/python -m benchmarks.platform_loop

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .factory .mypy_cache .ruff_cache .pytest_cache
