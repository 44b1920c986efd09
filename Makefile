# Two commands for a newcomer: `make demo` and `make test`. Both create .venv and install on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp

.PHONY: demo test test-slow lint serve bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[server,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/epermit demo $(DEMO_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(STAMP) lint
	$(BIN)/pytest $(PYTEST_ARGS)

# Long-running tests (crash, cluster, fuzz). CI runs them too.
test-slow: $(STAMP)
	$(BIN)/pytest -m slow $(PYTEST_ARGS) || [ $$? -eq 5 ]  # 5: none collected

# Benchmarks as ratios against raw cryptography and peers; writes bench/results/ and docs/benchmarks.md.
bench: $(STAMP)
	$(BIN)/python -m bench.run_all $(BENCH)

serve: $(STAMP)
	$(BIN)/epermit serve

clean:
	rm -rf $(VENV) build *.egg-info demo-out
