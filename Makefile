# cqpi: `make run` serves the embedded default; `make test` runs lint and the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
NODE_STAMP := node_modules/.installed-stamp

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

install: $(STAMP) $(NODE_STAMP)

run: $(STAMP) $(NODE_STAMP)
	$(BIN)/cqpi run

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy engine lifecycle handlers web registry forms bench

browser:
	scripts/ensure-chromium

test: lint browser $(NODE_STAMP)
	$(BIN)/cqpi rules --check > /dev/null
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
