# The suite's commands. A newcomer needs two: `make run` and `make test`.

SERVICES := registry crediting supervision quality
CARGO ?= cargo
SHELL := /bin/bash
DATA_DIR ?= data

.PHONY: run build release-registry test tools test-venv test-node faults fuzz-smoke bench bench-rules helm-check lint lint-proto fmt-check clippy stop-test-postgres clean help

help:
	@echo "make run    build and start every service on SQLite under ./$(DATA_DIR) (Ctrl-C stops them)"
	@echo "make test   lint the protos and the code, then run every test on SQLite and PostgreSQL"
	@echo "make faults only the fault suite (crashes, a database restart, peers down, overload)"
	@echo "make fuzz-smoke  each fuzz target for FUZZ_SECONDS (15)"

build:
	$(CARGO) build $(addprefix -p ,$(SERVICES)) -p cectl

# Ports: registry 50051, crediting 50052, supervision 50053, quality 50054.
run: build
	@mkdir -p $(DATA_DIR)
	@bash -c 'pids=(); \
	  stop() { kill -TERM "$${pids[@]}" 2>/dev/null; wait; exit 0; }; \
	  trap stop INT TERM; \
	  for s in $(SERVICES); do \
	    S=$$(echo $$s | tr a-z A-Z); \
	    env CE_$${S}__DATA_DIR=$(DATA_DIR) CE_$${S}__ENVIRONMENT=development target/debug/$$s & pids+=($$!); \
	  done; \
	  sleep 1; \
	  echo; \
	  echo "Suite running: registry :50051, crediting :50052, supervision :50053, quality :50054."; \
	  echo "Token:  export CE_TOKEN=\$$(target/debug/cectl token --role ministry --data-dir $(DATA_DIR))"; \
	  echo "Call:   target/debug/cectl call RegistryService/ListProvinces"; \
	  echo "Ctrl-C stops them all."; \
	  wait'

# The hostile-client fault test measures the registry's peak memory on the
# release build, the code that runs in production; only that binary is
# built in release (a few minutes on a clean clone), and the test requires it.
release-registry:
	$(CARGO) build --release -p registry

# The end-to-end tests start the service binaries as processes (the fault
# suite, tracing, cectl, `--migrate-only`): `build` makes them first.
test: tools lint helm-check fuzz-smoke release-registry build
	CE_REQUIRE_RELEASE=1 CE_TEST_VENV=$(CURDIR)/$(TEST_VENV) $(CARGO) test --workspace --no-fail-fast

# What the tests need beyond Rust, provisioned on a fresh machine so that
# `make test` is the whole set-up: cargo-fuzz (crates.io), Debian's
# Chromium and a Chinese font for the dashboard test (apt-get as root, else
# sudo without a password; otherwise it says what to install), and the Python clients the
# tests drive the services with (PyPI, in a venv under target/), and the
# npm packages that verify certificates offline (tests/vc, into its
# node_modules: Digital Bazaar's VC libraries and the JSON-LD contexts).
TEST_VENV ?= target/test-venv
tools: test-venv test-node
	@command -v cargo-fuzz >/dev/null || { echo "installing cargo-fuzz (make fuzz-smoke)"; $(CARGO) install cargo-fuzz --locked --quiet; }
	@command -v chromium >/dev/null || test -x "$$CE_CHROMIUM" || { \
	  echo "installing Debian's chromium (the dashboard test)"; \
	  if [ "$$(id -u)" -eq 0 ]; then apt=(apt-get); elif sudo -n true 2>/dev/null; then apt=(sudo -n apt-get); \
	  else echo "Chromium is missing and apt-get needs root: apt-get install chromium (or set CE_CHROMIUM)"; exit 1; fi; \
	  "$${apt[@]}" update -q >/dev/null && DEBIAN_FRONTEND=noninteractive "$${apt[@]}" install -y -q chromium >/dev/null; }
	@fc-list :lang=zh 2>/dev/null | grep -q . || { \
	  echo "installing a Chinese font (the dashboard's screenshots)"; \
	  if [ "$$(id -u)" -eq 0 ]; then apt=(apt-get); elif sudo -n true 2>/dev/null; then apt=(sudo -n apt-get); \
	  else echo "No Chinese font: apt-get install fonts-wqy-microhei, or the screenshots show boxes"; exit 0; fi; \
	  "$${apt[@]}" update -q >/dev/null && DEBIAN_FRONTEND=noninteractive "$${apt[@]}" install -y -q fonts-wqy-microhei >/dev/null; }

test-venv:
	@test -x $(TEST_VENV)/bin/python || python3 -m venv $(TEST_VENV)
	@$(TEST_VENV)/bin/pip install -q --disable-pip-version-check -r tests/reflection/requirements.txt

# Exactly the versions tests/vc/package-lock.json pins; the test that runs
# them (tests/tests/crediting/verifiable.rs) downloads nothing.
test-node:
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "node and npm are missing: apt-get install nodejs npm"; exit 1; }
	cd tests/vc && npm ci --no-audit --no-fund --loglevel=error

# The fault suite (also part of `make test`): crediting SIGKILLed mid-upload
# on both backends, a PostgreSQL restart under load, hostile clients, a
# database connection cut, overload shedding, each peer (registry,
# crediting, supervision) down while a decision needs it, 2,000 concurrent
# thousand-row lists against the release registry, pages cut by bytes, and
# idle and half-open connections closed.
faults: release-registry build
	CE_REQUIRE_RELEASE=1 $(CARGO) test -p ce-tests --test faults --test stack --test supervision --test quality --test bounds -- \
	  killed_mid_upload postgresql_restart hostile_clients registry_is_down database_outage overload_is_shed while_crediting_is_down once_supervision_is_back \
	  release_registry cut_short_by_bytes idle_connections half_open

# Fuzzing (cargo fuzz on stable Rust, no sanitizer): the rules library, the
# provincial overlay loader, xAPI evidence, and every write RPC of every
# service. fuzz-smoke runs each target for FUZZ_SECONDS; docs/fuzzing.md
# says how to run them for longer.
FUZZ_TARGETS := rules_assess rules_overlay xapi_statements write_requests
FUZZ_SECONDS ?= 15
fuzz-smoke:
	@command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is missing: make tools (or cargo install cargo-fuzz --locked)"; exit 1; }
	cd fuzz && cargo fuzz build --sanitizer none
	@for t in $(FUZZ_TARGETS); do \
	  echo "fuzz $$t for $(FUZZ_SECONDS) s"; \
	  (cd fuzz && cargo fuzz run $$t --sanitizer none -- -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 2>&1 | grep -E "^Done|stat::number_of_executed_units|panicked|SUMMARY" ; exit $${PIPESTATUS[0]}) || exit 1; \
	done

# Renders the Helm chart with Helm's own engine and validates every manifest
# against the Kubernetes schemas (default values, TLS on, NetworkPolicies on).
HELM_VENV ?= target/helm-venv
helm-check:
	@test -x $(HELM_VENV)/bin/python || python3 -m venv $(HELM_VENV)
	@$(HELM_VENV)/bin/pip install -q --disable-pip-version-check -r tests/helm/requirements.txt
	$(HELM_VENV)/bin/python tests/helm/check.py helm/ce-suite

# The benchmark report: the suite side by side with its baselines (COPY,
# a bare tonic server, GROUP BY), in release mode, printed as ratios.
# Figures are only comparable within one run. Sizes: see tests/bench.
bench:
	$(CARGO) build --release -p ce-bench $(addprefix -p ,$(SERVICES)) -p ce-tests --bins
	target/release/ce-bench

# The rules library alone (criterion).
bench-rules:
	$(CARGO) bench -p ce-rules

lint: lint-proto fmt-check clippy

lint-proto:
	cd proto && npm ci --no-audit --no-fund --loglevel=error && npx --no-install buf lint

fmt-check:
	$(CARGO) fmt --all --check

clippy:
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# The throwaway PostgreSQL cluster the tests start when CE_TEST_POSTGRES_URL
# is unset keeps running between runs (fast restarts); this stops it.
stop-test-postgres:
	$(CARGO) test -p ce-tests --lib -- --ignored stop_shared_cluster

clean:
	$(CARGO) clean
	rm -rf $(DATA_DIR)
