# Two commands for a newcomer: `make demo` and `make test`. Both create .venv and install on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp
WEB_BUILD = wallet_api/static/.built  # both web pages (rule below); set before any rule names it

.PHONY: demo test test-slow lint serve bench web peers fuzz clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[server,dev]'
	# Bytecode once, even where PYTHONDONTWRITEBYTECODE is set: an editable install otherwise recompiles every
	# module on every `epermit verify` (about 40 ms of a one-QR cold start).
	$(BIN)/python -m compileall -q credential verifier keys issuer wallet_api epermit
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

# Independent peers the tests run against (tests/peers): npm packages pinned in tests/peers/js/package-lock.json,
# and pyeudiw in its own environment (it requires a cryptography older than the project's).
PEERS_JS   = tests/peers/js/node_modules/.installed
PEERS_VENV = .venv-peers
PEERS_PY   = $(PEERS_VENV)/.installed-stamp
$(PEERS_JS): tests/peers/js/package.json tests/peers/js/package-lock.json
	cd tests/peers/js && npm ci --no-audit --no-fund
	touch $(PEERS_JS)

$(PEERS_PY): tests/peers/python/requirements.txt
	test -x $(PEERS_VENV)/bin/python || $(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install -q -r tests/peers/python/requirements.txt
	touch $(PEERS_PY)

peers: $(PEERS_JS) $(PEERS_PY)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(STAMP) lint $(WEB_BUILD) peers
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
	rm -rf $(VENV) $(PEERS_VENV) build *.egg-info demo-out web/node_modules tests/peers/js/node_modules wallet_api/static/verify wallet_api/static/wallet $(WEB_BUILD)
