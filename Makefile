# cqpi: `make run` serves the embedded default; `make test` runs lint and the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp
BUILT  := web/static/build/.built
ASSETS := $(shell find web/assets -name '*.js' 2>/dev/null) web/static/spiffworkflow.json

.PHONY: run test lint bench install clean browser

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The pages' front-end packages (package.json, pinned by package-lock.json) from the npm
# registry; without npm the pages work but draw no diagrams.
$(NODE_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null; then \
	  npm ci --no-audit --no-fund --loglevel=error && touch $(NODE_STAMP); \
	else echo "npm not found: BPMN diagrams will not be drawn in the pages"; fi

# The pages' ES-module scripts (web/assets/) bundled with esbuild (pinned in package.json)
# into web/static/build/; without npm the modeler says it is not installed.
$(BUILT): $(NODE_STAMP) $(ASSETS) scripts/build-assets.mjs
	@if [ -x node_modules/.bin/esbuild ]; then node scripts/build-assets.mjs; \
	else echo "esbuild not installed: the modeler page will not be built"; fi

install: $(STAMP) $(NODE_STAMP) $(BUILT)

run: $(STAMP) $(NODE_STAMP) $(BUILT)
	$(BIN)/cqpi run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy engine lifecycle handlers web registry forms bench

browser:
	scripts/ensure-chromium

test: lint browser $(NODE_STAMP) $(BUILT)
	$(BIN)/cqpi rules --check > /dev/null
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache web/static/build
