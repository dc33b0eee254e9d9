#!/usr/bin/env bash
# Build the rapt Python package (crates/rapt-py) into a virtual environment:
#   scripts/python-venv.sh VENV [release|debug] [EXTRA PIP REQUIREMENT...]
# Creates VENV (installing Debian's python3-venv with apt-get when the venv module is
# missing), installs maturin, Gymnasium, NumPy, pytest and the extras into it, builds the wheel with
# maturin (release by default; `make test` builds debug, reusing the test build's
# artifacts) into target/wheels/PROFILE and installs it.
set -euo pipefail

venv=${1:?usage: scripts/python-venv.sh VENV [release|debug]}
profile=${2:-release}
extras=("${@:3}")
root=$(cd "$(dirname "$0")/.." && pwd)
log() { echo "python-venv: $*" >&2; }

if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null || { log "python3-venv is missing; install it (apt-get install python3-venv)"; exit 1; }
        sudo=(sudo)
    fi
    command -v apt-get >/dev/null || { log "Python's venv module is missing; install it"; exit 1; }
    log "installing python3-venv with apt-get"
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        python3-venv >/dev/null
fi

[[ -x $venv/bin/python ]] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
    "maturin>=1.16,<2" "gymnasium>=1.0,<2" "numpy>=1.24" "pytest>=8" "${extras[@]}"

out=$root/target/wheels/$profile
rm -rf "$out"
args=(build -m "$root/crates/rapt-py/Cargo.toml" -o "$out" -i "$venv/bin/python")
[[ $profile == release ]] && args+=(--release)
[[ -f $root/Cargo.lock ]] && args+=(--locked)
"$venv/bin/maturin" "${args[@]}"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --force-reinstall --no-deps "$out"/rapt-*.whl
