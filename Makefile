# Two commands for a newcomer: `make demo` and `make test`. Both create .venv and install on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp
WEB_BUILD = wallet_api/static/.built  # both web pages (rule below); set before any rule names it

.PHONY: demo test test-slow lint serve bench web fuzz clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[server,dev]'
	touch $(STAMP)

# The demo serves what it builds: both web pages (/verify/ and /wallet/) are built first.
demo: $(STAMP) $(WEB_BUILD)
	$(BIN)/epermit demo $(DEMO_ARGS)

# The web pages, from npm packages pinned in web/package-lock.json: the landlord's offline verifier
# (web/src, web/static -> wallet_api/static/verify) and the resident's wallet (web/wallet -> .../wallet).
$(WEB_BUILD): web/package.json web/package-lock.json web/build.mjs $(wildcard web/src/*) $(wildcard web/static/*) \
		$(wildcard web/wallet/src/*) $(wildcard web/wallet/static/*)
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

serve: $(STAMP) $(WEB_BUILD)
	$(BIN)/epermit serve

clean:
	rm -rf $(VENV) build *.egg-info demo-out web/node_modules wallet_api/static/verify wallet_api/static/wallet $(WEB_BUILD)
