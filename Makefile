# gopherlab: a Jupyter kernel for Go.
#
#   make demo    build, install the kernelspec, execute notebooks/ headless, export the
#                example's pipeline, run the job, serve the model and ask it a prediction
#   make test    install Debian test dependencies, vet, unit, race, integration and fuzz tests
#
# Jupyter's Python side comes from Debian and runs under /usr/bin/python3.

SHELL  := /bin/bash
GO     ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
PYTHON ?= /usr/bin/python3

# Debian packages the tests, the demo and the benchmark use. gcc and libc6-dev
# are for cgo (the race detector and SQLite); curl sends the demo's
# prediction; tmux and chromium drive the frontend tests
# (kernel/frontend_test.go). Those also need node and npm: Debian's nodejs
# and npm are added when no npm is on PATH. wrk, gunicorn and Flask are
# bench/serve's load generator and its scikit-learn server. buildah builds
# and runs the serving bundle's Dockerfile without a container daemon
# (export/image_test.go).
DEB_PACKAGES := python3-jupyter-client python3-nbclient python3-nbconvert python3-nbformat \
	python3-ipykernel python3-zmq jupyter-notebook jupyter-console python3-sklearn gcc libc6-dev \
	tmux chromium curl wrk gunicorn python3-flask buildah
# npm packages of the frontend tests (playwright-core), installed by `deps`.
NPM_DIR := kernel/testdata/frontends

# Where `make install` puts the kernelspec (see `./gopherlab install --help`).
INSTALL_FLAGS ?= --user --replace
# Duration of each fuzz target's run in `make test`.
FUZZTIME ?= 10s
# Packages with concurrent code, run under the race detector. The generated
# symbol tables are data only and slow to instrument.
RACE_PKGS = $(shell $(GO) list ./kernel/... ./display/... ./experiments/... ./tracking/... ./internal/... ./export/serving/... 2>/dev/null | grep -v '/kernel/symbols$$')

NOTEBOOK_OUT := build/notebooks
# The tracking store the demo's notebooks log to (SQLite).
DEMO_DB := build/gopherlab.db

export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: all deps build install test vet fmt-check race unit fuzz demo bench generate clean

all: build

deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
		dpkg -s "$$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing="$$missing $$p"; \
	done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -z "$$missing" ]; then echo "deps: all Debian packages present"; exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "deps: missing Debian packages:$$missing"; \
		echo "deps: install them as root: apt-get update && apt-get install -y$$missing"; \
		exit 1; \
	fi; \
	echo "deps: installing$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -q && \
	apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $$missing
	@if [ -f $(NPM_DIR)/node_modules/.package-lock.json ] && \
		[ ! $(NPM_DIR)/package-lock.json -nt $(NPM_DIR)/node_modules/.package-lock.json ]; then \
		echo "deps: $(NPM_DIR)/node_modules is up to date"; \
	else \
		echo "deps: npm ci in $(NPM_DIR)"; \
		cd $(NPM_DIR) && npm ci --no-audit --no-fund; \
	fi

# A binary just written sits in the page cache in large folios, and every
# kernel started from it maps a whole folio on its first touch of any page:
# twice the resident memory. Writing it back and dropping it from the cache
# (coreutils' sync FILE, dd nocache) makes kernels read in only what they run.
build:
	$(GO) build -o gopherlab .
	sync gopherlab && dd if=gopherlab iflag=nocache count=0 status=none

install: build
	./gopherlab install $(INSTALL_FLAGS)

test: deps vet fmt-check race unit fuzz

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './build/*')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# -short skips the integration test here; `unit` runs it once, without -race.
race:
	$(GO) test -race -short $(RACE_PKGS)

unit:
	$(GO) test ./...

# Every `func FuzzXxx` in a _test.go file gets a short fuzzing run, so new
# targets are picked up without editing this file. Go's fuzzing engine can
# end a run with "context deadline exceeded" on a loaded machine without
# any failing input (a worker can also stall for tens of seconds, seen with
# FuzzGroupRuns); such a run (and only such a run) is repeated, up to twice.
# A real failure writes its input under testdata/fuzz and fails again.
fuzz:
	@files=$$(grep -rlE --include='*_test.go' --exclude-dir=.git --exclude-dir=build '^func Fuzz[A-Za-z0-9_]*\(' . || true); \
	if [ -z "$$files" ]; then echo "fuzz: no fuzz targets"; exit 0; fi; \
	failed=""; \
	for f in $$files; do \
		dir=$$(dirname "$$f"); \
		for name in $$(grep -oE '^func Fuzz[A-Za-z0-9_]*' "$$f" | sed 's/^func //'); do \
			echo "fuzz: $$dir $$name ($(FUZZTIME))"; \
			out=$$($(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) "$$dir" 2>&1); rc=$$?; echo "$$out"; \
			for retry in 1 2; do \
				if [ $$rc -ne 0 ] && echo "$$out" | grep -q 'context deadline exceeded' && ! echo "$$out" | grep -q 'Failing input written'; then \
					echo "fuzz: $$name: the fuzzing engine timed out without a failing input; running it again ($$retry of 2)"; \
					out=$$($(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) "$$dir" 2>&1); rc=$$?; echo "$$out"; \
				fi; \
			done; \
			[ $$rc -eq 0 ] || failed="$$failed $$dir.$$name"; \
		done; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failing targets:$$failed (inputs saved under testdata/fuzz)"; exit 1; fi

demo: deps install
	@mkdir -p $(NOTEBOOK_OUT)
	@shopt -s nullglob; nbs=(notebooks/*.ipynb); \
	if [ $${#nbs[@]} -eq 0 ]; then echo "demo: no notebooks in notebooks/"; exit 0; fi; \
	for nb in "$${nbs[@]}"; do \
		echo "demo: executing $$nb (gopherlab run, as papermill would)"; \
		GOPHERLAB_DB=$(CURDIR)/$(DEMO_DB) ./gopherlab run -q -timeout 600s \
			-o $(NOTEBOOK_OUT)/$$(basename "$$nb") "$$nb" || exit 1; \
	done; \
	echo "demo: executed notebooks are in $(CURDIR)/$(NOTEBOOK_OUT)/"; \
	echo "demo: open them with: jupyter notebook $(CURDIR)/$(NOTEBOOK_OUT)"; \
	if [ -f $(DEMO_DB) ]; then \
		echo "demo: every fit was tracked in $(CURDIR)/$(DEMO_DB) (folds and trials are child runs):"; \
		./gopherlab runs list -db $(DEMO_DB) -experiment 02-breast-cancer -filter 'parent_run_id IS NULL' -limit 8 \
			-columns 'metrics.mean_accuracy,metrics.best_accuracy,params.logisticregression.C'; \
		./gopherlab report 02-breast-cancer -db $(DEMO_DB) -o build/report.html && \
		echo "demo: report for domain experts: $(CURDIR)/build/report.html"; \
	fi
	@GO=$(GO) notebooks/demo.sh ./gopherlab $(CURDIR)/$(DEMO_DB) $(NOTEBOOK_OUT)

bench: deps install
	$(PYTHON) bench/kernel.py
	$(PYTHON) bench/autolog.py

generate:
	$(GO) generate ./...

clean:
	rm -f gopherlab
	rm -rf build
