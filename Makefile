# l2tww — the two commands a user needs: `make limited-data` (the main study) and `make test`.
# Each brings in what it needs first: a Python venv with torch (the libtorch that tch links)
# and the build. Both live in a cache outside the clone ($(CACHE)) so re-runs and CI reuse them;
# on a new machine they are created from nothing.

SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c

TORCH_VERSION := 2.13.0
CACHE ?= $(HOME)/.cache/l2tww
VENV ?= $(CACHE)/venv
PYTHON ?= python3
# PROFILE=auto: the paper's sizes and settings when --device resolves to a GPU, else the CPU study.
PROFILE ?= auto
DEVICE ?= auto

export CARGO_TARGET_DIR ?= $(CACHE)/target
# tch finds libtorch in the venv's torch package; build.rs records its path as an rpath.
export LIBTORCH_USE_PYTORCH := 1
export VIRTUAL_ENV := $(VENV)
export PATH := $(VENV)/bin:$(PATH)

TORCH_STAMP := $(VENV)/.torch-$(TORCH_VERSION)
BIN_DEBUG := $(CARGO_TARGET_DIR)/debug/l2tww
BIN_RELEASE := $(CARGO_TARGET_DIR)/release/l2tww
REFERENCE ?= ../shared/reference

.PHONY: help install venv build release test test-slurm conformance fashion-mnist limited-data multi-source clean-venv

help:
	@echo "Studies (each installs what it needs first):"
	echo "  make limited-data     run the low-sample transfer study (PROFILE=auto|default|paper)"
	echo "  make limited-data PROFILE=paper     the paper's sizes and settings (the default on a GPU)"
	echo "  make limited-data PROFILE=default   the CPU-sized study, whatever the machine"
	echo "  make multi-source     run the multi-source study"
	echo "Checks:"
	echo "  make test             build and run every test"
	echo "  make test-slurm       the Slurm client against a temporary single-node cluster"
	echo "  make conformance      compare with the official code's tensors in $(REFERENCE)"
	echo "Setup:"
	echo "  make build            debug build of l2tww (in $(CARGO_TARGET_DIR))"
	echo "  make release          optimised build"
	echo "  make install          link l2tww into $(PREFIX)/bin"
	echo "  make venv             the Python venv with torch $(TORCH_VERSION) (the libtorch tch links)"
	echo "  make fashion-mnist    install Debian's dataset-fashion-mnist when missing"
	echo "  make clean-venv       remove the venv ($(VENV))"
	echo "  make help             this list"
	echo "Variables: DEVICE=auto|cpu|cuda|cuda:N  JOBS=N  CACHE=DIR  PREFIX=DIR  REFERENCE=DIR"

$(TORCH_STAMP):
	@echo "==> creating $(VENV) with torch==$(TORCH_VERSION) (the libtorch tch links against)"
	mkdir -p $(CACHE)
	[ -x $(VENV)/bin/python ] || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check torch==$(TORCH_VERSION)
	$(VENV)/bin/python -W ignore -c "import torch; assert torch.__version__.split('+')[0] == '$(TORCH_VERSION)'"
	touch $@

venv: $(TORCH_STAMP)

build: venv
	@cargo build

release: venv
	@cargo build --release

# Tests run in parallel, one libtorch thread each: two cores, no oversubscription (OpenMP threads
# spinning against each other make tiny trainings several times slower).
test: venv
	@if ! command -v chromium >/dev/null && command -v apt-get >/dev/null; then
	  echo "==> installing Debian's chromium (the report page's browser test)"
	  { $(SUDO_N) apt-get install -y -qq chromium >/dev/null 2>&1 \
	    || { $(SUDO_N) apt-get update -qq && $(SUDO_N) apt-get install -y -qq chromium >/dev/null 2>&1; }; } \
	    || echo "note: chromium could not be installed; the page's browser test will be skipped"
	fi
	OMP_NUM_THREADS=1 cargo test
	if [ -d $(REFERENCE) ]; then
	  $(BIN_DEBUG) conformance $(REFERENCE)
	else
	  echo "note: $(REFERENCE) not present; conformance against the official code skipped"
	fi

# The Slurm client against a real single-node cluster in a temporary folder (Debian's
# slurm-wlm and munge are installed when missing); the cluster is stopped whatever happens.
test-slurm: venv
	@dir=$$(mktemp -d /tmp/l2tww-slurm.XXXXXX)
	trap 'tests/slurm/cluster.sh stop "$$dir" >/dev/null 2>&1 || true' EXIT
	start=$$(date +%s)
	tests/slurm/cluster.sh start "$$dir"
	if ! L2TWW_SLURM_TEST="$$dir" SLURM_CONF="$$dir/slurm.conf" OMP_NUM_THREADS=1 \
	    cargo test --test it slurm -- --test-threads=5; then
	  echo "test-slurm: failed; the cluster's configuration and logs are kept in $$dir" >&2
	  exit 1
	fi
	tests/slurm/cluster.sh stop "$$dir"
	trap - EXIT
	rm -rf "$$dir"
	echo "test-slurm: passed in $$(( $$(date +%s) - start )) s"

conformance: build
	@$(BIN_DEBUG) conformance $(REFERENCE)

# Fashion-MNIST comes from Debian's package; the studies install it when it is missing.
FASHION_MNIST := /usr/share/datasets/fashion-mnist
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Without a password prompt (the test target must not wait on one).
SUDO_N := $(shell [ "$$(id -u)" = 0 ] || echo sudo -n)
# Parallel stages: every core (nproc alone would follow OMP_NUM_THREADS).
JOBS ?= $(shell env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)

fashion-mnist:
	@if [ ! -d $(FASHION_MNIST) ]; then
	  echo "==> installing dataset-fashion-mnist (Debian package)"
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq dataset-fashion-mnist
	fi

# The low-sample study: with PROFILE=auto the paper's sizes and settings where the device is a
# GPU (pipelines/limited-data-paper.yaml), the CPU-sized study elsewhere (limited-data.yaml).
limited-data: build fashion-mnist
	@profile=$(PROFILE)
	if [ "$$profile" = auto ]; then
	  case "$$($(BIN_DEBUG) --device $(DEVICE) info --device-only)" in
	    cuda*) profile=paper ;;
	    *) profile=default ;;
	  esac
	fi
	case "$$profile" in
	  paper) study=pipelines/limited-data-paper.yaml ;;
	  default) study=pipelines/limited-data.yaml ;;
	  *) echo "unknown PROFILE=$$profile: use auto, default or paper" >&2; exit 2 ;;
	esac
	echo "==> $$study ($$profile profile, device $(DEVICE))"
	$(BIN_DEBUG) --device $(DEVICE) run $$study -j $(JOBS)

multi-source: build fashion-mnist
	@$(BIN_DEBUG) --device $(DEVICE) run pipelines/multi-source.yaml -j $(JOBS)

# Puts `l2tww` on the PATH: a link to the build in $(PREFIX)/bin (~/.local/bin by default).
PREFIX ?= $(HOME)/.local
install: build
	@mkdir -p $(PREFIX)/bin
	ln -sf $(BIN_DEBUG) $(PREFIX)/bin/l2tww
	echo "l2tww -> $(BIN_DEBUG) in $(PREFIX)/bin$$(case ":$$PATH:" in *":$(PREFIX)/bin:"*) ;; *) echo ' (not on your PATH: add it)';; esac)"

clean-venv:
	@rm -rf $(VENV)
