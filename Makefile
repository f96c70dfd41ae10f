# tinyforge: `make demo` and `make test` do all set-up themselves on a fresh Debian/Ubuntu machine.
# Stamps keep a second `make setup` quick: npm ci reruns only when package*.json change, the
# TypeScript build only when a source changes; the toolchain check takes a fraction of a second.

SHELL := /bin/bash
NODE_STAMP := node_modules/.package-lock.json
BUILD_STAMP := dist/.build-stamp
SOURCES := $(shell find src -type f) tsconfig.json tsconfig.build.json

.PHONY: all setup toolchain node-version demo test fuzz fixtures clean distclean

# onnxruntime-node (tests only: it runs the original ONNX files) ships its CPU binaries; its install
# script would download more from outside, which fails offline.
export ONNXRUNTIME_NODE_INSTALL := skip
all: setup

setup: toolchain $(BUILD_STAMP)

toolchain:
	toolchain/install.sh

node-version:
	@command -v node >/dev/null && command -v npm >/dev/null || \
	  { echo "tinyforge needs Node.js >= 20 and npm (https://nodejs.org, or the NodeSource packages)" >&2; exit 1; }
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || \
	  { echo "tinyforge needs Node.js >= 20; found $$(node --version)" >&2; exit 1; }

# npm ci installs exactly the lock file; if npm refuses it (a lock file written where some optional
# platform packages could not be resolved), install from package.json without touching the lock.
$(NODE_STAMP): package.json package-lock.json | node-version
	npm ci || { echo "make: npm ci failed; trying npm install --no-save" >&2; npm install --no-save; }
	touch $@

$(BUILD_STAMP): $(NODE_STAMP) $(SOURCES)
	npm run build
	touch $@

# Train on synthetic windows -> compress three ways -> build -> run every test window on the emulated
# Cortex-M4, then one table (src/measure/demo.ts; build folders in out/demo/).
demo: setup
	node dist/measure/demo.js --out out/demo

test: setup
	npm run typecheck
	npm run lint
	npx vitest run

# Hostile input (README "Fuzzing"): every libFuzzer harness (fuzz/; clang with ASan + UBSan) for
# FUZZ_SECONDS each (or FUZZ_RUNS executions each), then the property-based fuzzing of the readers
# in its long mode (FUZZ_CASES generated cases per reader). Fails on any finding. Build products,
# corpora and findings: .cache/fuzz/. `make test` runs both with a short budget.
FUZZ_SECONDS ?= 60
FUZZ_CASES ?= 100000
fuzz: setup
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(if $(FUZZ_RUNS),FUZZ_RUNS=$(FUZZ_RUNS)) nice -n 10 npx vite-node test/fuzz/c/main.ts
	$(if $(filter 0,$(FUZZ_CASES)),,FUZZ_LONG=1 FUZZ_CASES=$(FUZZ_CASES) nice -n 10 npx vitest run test/fuzz --exclude test/fuzz/cHarnesses.test.ts)

# Developers only (tests and CI never run Python): rebuild the importer fixtures and the frameworks'
# expected outputs (test/fixtures/import). Needs a Python with tensorflow-cpu 2.21, keras 3, h5py,
# onnx, onnxruntime, onnxscript and torch: PYTHON=/path/to/venv/bin/python make fixtures.
PYTHON ?= python3
fixtures:
	$(PYTHON) test/fixtures/import/make_fixtures.py
	$(PYTHON) test/fixtures/import/make_onnx_fixtures.py
	$(PYTHON) test/fixtures/import/make_mlperf_expected.py
	$(PYTHON) test/fixtures/import/make_mlperf_int8_expected.py

clean:
	rm -rf dist out .cache coverage

distclean: clean
	rm -rf node_modules
