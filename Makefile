# rapt developer entry points. `make` lists them; see docs/libtorch.md for libtorch.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
# Run config for `make train`.
CONFIG ?= configs/reach.ron
# With a committed Cargo.lock, build and test exactly what it pins (CI). After changing
# dependencies locally, run `make test CARGO_LOCKED=` once, or any plain cargo command.
CARGO_LOCKED ?= $(if $(wildcard Cargo.lock),--locked)
# Data-parallel training on MPI (`mpirun -np N rapt train`, docs/distributed.md): on by
# default, installing Open MPI with apt (scripts/bootstrap-mpi.sh). `MPI=0` builds without.
MPI ?= 1
MPI_FEATURES := $(if $(filter 1,$(MPI)),--features rapt/mpi)
MPI_DEP := $(if $(filter 1,$(MPI)),mpi)

.PHONY: help libtorch mpi tools build train python test test-long bench clean-libtorch

help: ## list the targets
	@echo "usage: make <target>"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
		awk -F':.*## ' '{ printf "  %-15s %s\n", $$1, $$2 }'

# The script itself does nothing when LIBTORCH or LIBTORCH_USE_PYTORCH is set (environment or
# `make VAR=...`), so a user-provided libtorch always wins.
libtorch: ## CPU libtorch 2.11.0 into third_party/libtorch (skipped if LIBTORCH/LIBTORCH_USE_PYTORCH is set)
	@scripts/bootstrap-libtorch.sh

mpi: ## Open MPI and libclang for the `mpi` feature, with apt (skipped when present)
	@scripts/bootstrap-mpi.sh

tools: ## make sure rustfmt and clippy are installed
	@$(CARGO) fmt --version >/dev/null 2>&1 || rustup component add rustfmt
	@$(CARGO) clippy --version >/dev/null 2>&1 || rustup component add clippy

build: libtorch $(MPI_DEP) ## release build of the `rapt` binary (with MPI unless MPI=0)
	$(CARGO) build --release $(CARGO_LOCKED) $(MPI_FEATURES)

train: build ## ./target/release/rapt train CONFIG (default CONFIG=configs/reach.ron)
	./target/release/rapt train $(CONFIG)

python: ## the Python package (Gymnasium envs) into .venv: then `. .venv/bin/activate`
	scripts/python-venv.sh .venv release

test: libtorch $(MPI_DEP) tools ## what CI runs: fmt, clippy, docs, tests (Rust, then Python in .venv-test)
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets $(CARGO_LOCKED) $(MPI_FEATURES) -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps $(CARGO_LOCKED) $(MPI_FEATURES)
	$(CARGO) test --workspace $(CARGO_LOCKED) $(MPI_FEATURES)
	scripts/python-venv.sh .venv-test debug "moviepy>=2,<3" "pillow>=10" "openai>=1,<4"
	RAPT_BIN=target/debug/rapt .venv-test/bin/python -m pytest -q -p no:cacheprovider crates/rapt-py/tests

test-long: libtorch $(MPI_DEP) ## slow tests: #[ignore] learning tests, 24,000 property cases, SB3 via Python
	$(CARGO) test --workspace $(CARGO_LOCKED) $(MPI_FEATURES) -- --ignored
	PROPTEST_CASES=4000 $(CARGO) test $(CARGO_LOCKED) $(MPI_FEATURES) --test config_properties
	PROPTEST_CASES=4000 $(CARGO) test $(CARGO_LOCKED) -p rapt-progress-http --test serve_properties
	scripts/python-venv.sh .venv-long release
	.venv-long/bin/python -m pip install -q --disable-pip-version-check "torch==2.11.0" "stable-baselines3>=2.9,<3"
	RAPT_LONG=1 RAPT_BIN=target/debug/rapt .venv-long/bin/python -m pytest -q -p no:cacheprovider crates/rapt-py/tests

bench: libtorch $(MPI_DEP) ## benchmarks
	$(CARGO) bench --workspace $(CARGO_LOCKED) $(MPI_FEATURES)

clean-libtorch: ## delete third_party/libtorch (`make libtorch` rebuilds it)
	rm -rf third_party/libtorch third_party/.libtorch-tmp.* third_party/.libtorch.lock
