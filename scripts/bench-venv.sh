#!/usr/bin/env bash
# Make sure .venv-bench (git-ignored; the Python peers of the benchmarks) imports MODULES
# (comma-separated), installing PACKAGES into it on first use.
#   scripts/bench-venv.sh MODULES PACKAGE...
set -euo pipefail
cd "$(dirname "$0")/.."
modules=${1:?usage: scripts/bench-venv.sh MODULES PACKAGE...}
shift
if ! .venv-bench/bin/python -c "import $modules" 2>/dev/null; then
    python3 -m venv .venv-bench
    .venv-bench/bin/pip install -q "$@"
fi
