#!/usr/bin/env bash
# Build a CPU-only libtorch 2.11.0 (the version tch/torch-sys 0.24 expects) from PyPI wheels
# into third_party/libtorch, because pytorch.org may be unreachable while PyPI is not.
#
# The Linux x86_64 torch wheel is the CUDA 13 build. We keep its headers and the four CPU
# libraries, add the two small CUDA runtime libraries that libtorch_cpu.so links against
# (they load fine without a GPU or driver), and drop libtorch.so's libtorch_cuda.so entry.
# See docs/libtorch.md.
#
# Idempotent: when third_party/libtorch/build-version says 2.11.0 it prints one line and
# exits. The tree is assembled in a temporary directory and renamed into place last, so an
# interrupted run never leaves a folder that looks complete.
#
# Does nothing when LIBTORCH or LIBTORCH_USE_PYTORCH is set: torch-sys then uses that.
set -euo pipefail

readonly TORCH_VERSION=2.11.0
readonly CUDART_REQ='nvidia-cuda-runtime==13.0.96.*'
readonly CUPTI_REQ='nvidia-cuda-cupti==13.0.85.*'
# Pin the wheel target instead of trusting the local interpreter: the libraries do not depend
# on the Python version. pip does not expand manylinux tags for --platform, so list glibc
# 2.17..2.28 (torch is tagged 2_28, cuda-runtime 2_17/2014, cupti 2_25).
PIP_TARGET_ARGS=(--only-binary=:all: --no-deps --python-version 3.11 --implementation cp --abi cp311)
for glibc_minor in $(seq 28 -1 17); do
    PIP_TARGET_ARGS+=(--platform "manylinux_2_${glibc_minor}_x86_64")
done
PIP_TARGET_ARGS+=(--platform manylinux2014_x86_64)
readonly PIP_TARGET_ARGS

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
third_party=$root/third_party
dest=$third_party/libtorch

log() { printf 'bootstrap-libtorch: %s\n' "$*"; }
die() { printf 'bootstrap-libtorch: error: %s\n' "$*" >&2; exit 1; }

# torch-sys tests whether these are *set* (any value), so do the same.
if [[ -n ${LIBTORCH_USE_PYTORCH+x} ]]; then
    log "LIBTORCH_USE_PYTORCH is set: torch-sys will use the active Python's torch; nothing to do"
    exit 0
fi
if [[ -n ${LIBTORCH+x} ]]; then
    log "LIBTORCH is set ($LIBTORCH): torch-sys will use it; nothing to do"
    [[ -e $LIBTORCH/lib/libtorch_cpu.so ]] ||
        log "warning: $LIBTORCH/lib/libtorch_cpu.so does not exist"
    exit 0
fi

is_complete() {
    local v=
    if [[ -f $dest/build-version ]]; then
        read -r v <"$dest/build-version" || true # no trailing newline is fine
    fi
    [[ $v == "$TORCH_VERSION" ]]
}

if is_complete; then
    log "libtorch $TORCH_VERSION already in ${dest#"$root"/}"
    exit 0
fi

# ---- tools -------------------------------------------------------------------------------
missing=()
command -v python3 >/dev/null || missing+=(python3)
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
command -v unzip >/dev/null || missing+=(unzip)
command -v patchelf >/dev/null || missing+=(patchelf)
command -v strip >/dev/null || missing+=(binutils)
command -v flock >/dev/null || missing+=(util-linux)
# Not for this script: torch-sys compiles its C++ wrapper against these headers.
command -v c++ >/dev/null || missing+=(g++)
if ((${#missing[@]})); then
    sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null || die "missing ${missing[*]}; install them (apt-get install ${missing[*]})"
        sudo=(sudo)
    fi
    command -v apt-get >/dev/null || die "missing ${missing[*]} (Debian package names); install them"
    log "installing ${missing[*]} with apt-get"
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

# ---- build in a temporary directory --------------------------------------------------------
mkdir -p "$third_party"
# One bootstrap at a time; the lock also makes removing stale temp dirs safe.
exec 9>"$third_party/.libtorch.lock"
flock 9
if is_complete; then # another run finished while we waited
    log "libtorch $TORCH_VERSION already in ${dest#"$root"/}"
    exit 0
fi
rm -rf "$third_party"/.libtorch-tmp.* # left behind by a killed run

start=$SECONDS
tmp=$(mktemp -d "$third_party/.libtorch-tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
wheels=$tmp/wheels
out=$tmp/libtorch
mkdir -p "$wheels" "$out/lib"

pip_args=(download --disable-pip-version-check --no-cache-dir --dest "$wheels" "${PIP_TARGET_ARGS[@]}")
[[ -t 1 ]] || pip_args+=(--progress-bar off)
log "downloading torch==$TORCH_VERSION (~530 MB), $CUDART_REQ and $CUPTI_REQ from PyPI"
python3 -m pip "${pip_args[@]}" "torch==$TORCH_VERSION" "$CUDART_REQ" "$CUPTI_REQ"

one_wheel() {
    local matches
    # shellcheck disable=SC2206 # $1 is a glob and must expand
    matches=("$wheels"/$1)
    if ((${#matches[@]} != 1)) || [[ ! -f ${matches[0]} ]]; then
        die "expected one wheel matching $1 in $wheels"
    fi
    printf '%s\n' "${matches[0]}"
}
torch_whl=$(one_wheel "torch-$TORCH_VERSION-*.whl")
cudart_whl=$(one_wheel 'nvidia_cuda_runtime-*.whl')
cupti_whl=$(one_wheel 'nvidia_cuda_cupti-*.whl')

log "extracting headers and CPU libraries"
unzip -q "$torch_whl" 'torch/include/*' 'torch/lib/libc10.so' 'torch/lib/libtorch_cpu.so' \
    'torch/lib/libtorch.so' 'torch/lib/libgomp*' -d "$tmp/x"
unzip -q -j "$cudart_whl" 'nvidia/cu13/lib/libcudart.so.13' -d "$out/lib"
unzip -q -j "$cupti_whl" 'nvidia/cu13/lib/libcupti.so.13' -d "$out/lib"
mv "$tmp/x/torch/include" "$out/include"
mv "$tmp/x/torch/lib"/* "$out/lib/"

# libtorch.so lists libtorch_cuda.so as needed; we do not ship it.
patchelf --remove-needed libtorch_cuda.so "$out/lib/libtorch.so"
# ~90 MB of symbols nobody links against.
strip --strip-unneeded "$out/lib/libtorch_cpu.so"

# Every library must resolve from lib/ or the system, or the first `cargo test` fails late.
for so in "$out"/lib/*.so*; do
    if unresolved=$(LD_LIBRARY_PATH=$out/lib ldd "$so" 2>&1 | grep 'not found'); then
        die "$(basename "$so") has unresolved dependencies:"$'\n'"$unresolved"
    fi
done

{
    echo "Built by scripts/bootstrap-libtorch.sh on $(date -u +%Y-%m-%dT%H:%M:%SZ) from:"
    (cd "$wheels" && sha256sum -- *.whl)
} >"$out/SOURCES"
# Written last: torch-sys checks it, and is_complete() trusts it.
echo "$TORCH_VERSION" >"$out/build-version"

# Swap into place. A stale or foreign tree at $dest is moved aside first, then removed.
if [[ -e $dest ]]; then
    mv "$dest" "$tmp/old"
fi
mv "$out" "$dest"
rm -rf "$tmp" # wheels included
trap - EXIT

log "libtorch $TORCH_VERSION ready in ${dest#"$root"/} ($(du -sh "$dest" | cut -f1)) after $((SECONDS - start)) s"
