# Two commands for a newcomer: `make demo` and `make test`. Both create .venv and install on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp

.PHONY: demo test test-slow lint serve bench web fuzz clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[server,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/epermit demo $(DEMO_ARGS)

# The offline verifier page: npm packages pinned in web/package-lock.json, bundled into wallet_api/static/verify.
WEB_BUILD = wallet_api/static/verify/.built
$(WEB_BUILD): web/package.json web/package-lock.json web/build.mjs $(wildcard web/src/*) $(wildcard web/static/*)
	cd web && npm ci --no-audit --no-fund && npm run build
	touch $(WEB_BUILD)

web: $(WEB_BUILD)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(STAMP) lint $(WEB_BUILD)
	$(BIN)/pytest $(PYTEST_ARGS)

# Long-running tests (crash, cluster, fuzz). CI runs them too.
test-slow: $(STAMP) $(WEB_BUILD)
	$(BIN)/pytest -m slow $(PYTEST_ARGS) || [ $$? -eq 5 ]  # 5: none collected

# Benchmarks as ratios against raw cryptography and peers; writes bench/results/ and docs/benchmarks.md.
bench: $(STAMP)
	$(BIN)/python -m bench.run_all $(BENCH)

# A bounded coverage-guided fuzz of the verify entry point (atheris), seeded with freshly issued credentials.
fuzz: $(STAMP)
	FUZZ_SECONDS=$${FUZZ_SECONDS:-60} $(BIN)/python fuzz/fuzz_verify.py

serve: $(STAMP)
	$(BIN)/epermit serve

clean:
	rm -rf $(VENV) build *.egg-info demo-out web/node_modules wallet_api/static/verify
