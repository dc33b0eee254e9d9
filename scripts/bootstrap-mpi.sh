#!/usr/bin/env bash
# Install what rapt's `mpi` feature needs (docs/distributed.md): Open MPI (mpirun, mpicc and
# headers; rsmpi's build finds MPI through `mpicc -show`) and libclang (rsmpi generates its
# bindings with bindgen). Debian/Ubuntu packages through apt, as root or with sudo.
#
# Idempotent: when mpirun, mpicc and libclang are all there it prints one line and exits.
set -euo pipefail

log() { printf 'bootstrap-mpi: %s\n' "$*"; }
die() { printf 'bootstrap-mpi: error: %s\n' "$*" >&2; exit 1; }

have_libclang() {
    [[ -n ${LIBCLANG_PATH:-} ]] && return 0
    ldconfig -p 2>/dev/null | grep -q 'libclang\(-[0-9.]*\)\?\.so' && return 0
    compgen -G '/usr/lib/llvm-*/lib/libclang*.so*' >/dev/null
}

if command -v mpirun >/dev/null && command -v mpicc >/dev/null && have_libclang; then
    log "Open MPI $(mpirun --version 2>/dev/null | head -n 1 | awk '{ print $NF }') and libclang present"
    exit 0
fi

readonly PACKAGES=(libopenmpi-dev openmpi-bin libclang-dev)
command -v apt-get >/dev/null ||
    die "no apt-get here: install Open MPI (mpirun, mpicc, headers) and libclang yourself, or build without MPI: make build MPI=0"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null ||
        die "installing ${PACKAGES[*]} needs root (or sudo); or build without MPI: make build MPI=0"
    sudo=(sudo)
fi
log "installing ${PACKAGES[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
command -v mpirun >/dev/null || die "apt-get installed ${PACKAGES[*]} but mpirun is still missing"
log "Open MPI $(mpirun --version 2>/dev/null | head -n 1 | awk '{ print $NF }') installed"
